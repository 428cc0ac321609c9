async fn golden() -> Result<u64, Error> {
    let value = {
        let value_type = ::core::marker::PhantomData;
        'async_with_value0: {
            #[allow(clippy::diverging_sub_expression)]
            if false {
                let value = ::async_with::__private::value_of(value_type);
                break 'async_with_value0 value;
            }
            let mut scope = ::async_with::__private::pin!(
                ::async_with::__private::scope(::async_with::__private::manager(match
                (Connection::open(),) { (manager,) => { #[allow(unused_imports)] use
                ::async_with::__private:: { LendByRef as _, LendManager as _, LendOther
                as _, LendUnpinned as _ }; (&& && ::async_with::__private::Lend(&
                manager)).lend_kind().lend(manager) } }))
            );
            let target = match scope.as_mut().enter().await {
                ::core::result::Result::Ok(target) => target,
                ::core::result::Result::Err(error) => {
                    ::async_with::__private::raise!(error)
                }
            };
            #[allow(non_camel_case_types, dead_code)]
            enum AsyncWithFlow0<V, T0> {
                Value(V),
                Exit0(T0),
            }
            #[allow(unreachable_code, unused_braces, clippy::diverging_sub_expression)]
            let mut ended = ::async_with::__private::catch_unwind_now(|| {
                #[allow(unused_mut)]
                let conn = target;
                let value = ::async_with::__private::typed(
                    value_type,
                    {
                        if conn.is_empty() {
                            return AsyncWithFlow0::Exit0(Ok(1));
                        }
                        return AsyncWithFlow0::Exit0(Ok(2));
                    },
                );
                AsyncWithFlow0::Value(value)
            });
            let exited = scope
                .as_mut()
                .exit_after(&mut ended, |_| ::async_with::Outcome::Completed)
                .await;
            #[allow(unreachable_code, clippy::diverging_sub_expression)]
            match ::async_with::__private::after_exit(ended, exited) {
                ::core::result::Result::Err((error, _)) => {
                    #[allow(unreachable_code)]
                    let error = error;
                    ::async_with::__private::raise!(error)
                }
                ::core::result::Result::Ok((flow, _)) => {
                    match flow {
                        AsyncWithFlow0::Value(value) => value,
                        AsyncWithFlow0::Exit0(value) => return value,
                    }
                }
            }
        }
    };
    Ok(value)
}
