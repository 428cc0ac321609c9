async fn golden() -> Result<u64, Error> {
    let value = {
        let value_type = ::core::marker::PhantomData;
        'async_with_value0: {
            #[allow(clippy::diverging_sub_expression)]
            if false {
                let value = ::async_with::__private::value_of(value_type);
                break 'async_with_value0 value;
            }
            #[allow(unused_imports)]
            use ::async_with::__private::methods::*;
            let mut scope = ::async_with::__private::pin!(
                ::async_with::__private::scope(::async_with::__private::manager(match
                (Connection::open(),) { (manager,) => (&& &&
                ::async_with::__private::Lend(& manager)).async_with_lend()
                .lend(manager), }))
            );
            let target = match scope.as_mut().enter().await {
                ::core::result::Result::Ok(target) => target,
                ::core::result::Result::Err(error) => {
                    #[allow(unreachable_code, clippy::diverging_sub_expression)]
                    return (&&::async_with::__private::raise::Probe(&error))
                        .async_with_raise_kind()
                        .raise(error);
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
                .exit_after(
                    &mut ended,
                    |value| ::async_with::__private::way_outcome(
                        value,
                        (&&&::async_with::__private::Way(value)).async_with_view(),
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
                        (&&&::async_with::__private::keep::Keep::of(&error, &value))
                            .async_with_keep()
                            .keep(error, value)
                    };
                    {
                        #[allow(unreachable_code, clippy::diverging_sub_expression)]
                        return (&&::async_with::__private::raise::Probe(&error))
                            .async_with_raise_kind()
                            .raise(error);
                    }
                }
            }
        }
    };
    Ok(value)
}
