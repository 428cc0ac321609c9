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
                    #[allow(unused_imports)]
                    use ::async_with::__private::raise::{
                        KindNever as _, KindPropagate as _,
                    };
                    #[allow(unreachable_code)]
                    let kind = (&&::async_with::__private::raise::Probe(&error))
                        .async_with_raise_kind();
                    #[allow(unreachable_code, clippy::diverging_sub_expression)]
                    return kind.raise(error);
                }
            };
            #[allow(unreachable_code, unused_braces, clippy::diverging_sub_expression)]
            let mut ended = ::async_with::__private::catch_unwind_now(|| {
                #[allow(unused_mut)]
                let conn = target;
                ::async_with::__private::typed(value_type, { conn.len() })
            });
            let exited = scope
                .as_mut()
                .exit(
                    ::async_with::__private::outcome(
                        &mut ended,
                        |value| {
                            #[allow(unused_imports)]
                            use ::async_with::__private::{
                                ViewsCompleted as _, ViewsDebug as _, ViewsOpaque as _,
                            };
                            ::async_with::__private::way_outcome(
                                value,
                                (&&&::async_with::__private::Way(value)).view(),
                            )
                        },
                    ),
                )
                .await;
            match ::async_with::__private::after_exit(ended, exited) {
                ::core::result::Result::Ok((value, _)) => value,
                ::core::result::Result::Err((error, value)) => {
                    #[allow(unreachable_code)]
                    let error = if scope.as_ref().handled_block_failure() {
                        error
                    } else {
                        {
                            #[allow(unused_imports)]
                            use ::async_with::__private::keep::{
                                KeepBoth as _, KeepByHook as _, KeepLater as _,
                            };
                            (&&&::async_with::__private::keep::Keep::of(&error, &value))
                                .keep_kind()
                                .keep(error, value)
                        }
                    };
                    {
                        #[allow(unused_imports)]
                        use ::async_with::__private::raise::{
                            KindNever as _, KindPropagate as _,
                        };
                        #[allow(unreachable_code)]
                        let kind = (&&::async_with::__private::raise::Probe(&error))
                            .async_with_raise_kind();
                        #[allow(unreachable_code, clippy::diverging_sub_expression)]
                        return kind.raise(error);
                    }
                }
            }
        }
    };
    Ok(value)
}
