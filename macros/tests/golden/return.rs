async fn golden() -> Result<u64, Error> {
    let value = {
        let return_type = ::core::marker::PhantomData;
        if false {
            return ::async_with::__private::return_type(return_type);
        }
        let returned = ::async_with::__private::returning(return_type);
        let value_type = ::core::marker::PhantomData;
        'async_with_value0: {
            #[allow(clippy::diverging_sub_expression)]
            if false {
                let value = ::async_with::__private::value_of(value_type);
                break 'async_with_value0 value;
            }
            #[allow(unused_imports)]
            use ::async_with::__private::methods::*;
            ::async_with::__private::ways_out!(AsyncWithWays { Return0(T0) });
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
                let value = ::async_with::__private::typed(
                    value_type,
                    {
                        if conn.is_empty() {
                            return ::async_with::__private::Flow::Left(
                                AsyncWithWays::Return0({
                                    let value = returned(Err(Empty));
                                    ::async_with::__private::Leave::new(
                                        (&&&::async_with::__private::Way(&value)).async_with_view(),
                                        ::async_with::__private::HoldsNothing,
                                        value,
                                    )
                                }),
                            );
                        }
                    },
                );
                ::async_with::__private::Flow::Value(value)
            });
            let exited = scope
                .as_mut()
                .exit_after(
                    &mut ended,
                    |flow| flow.outcome(|value| ::async_with::Outcome::Completed),
                )
                .await;
            #[allow(unreachable_code, clippy::diverging_sub_expression)]
            match ::async_with::__private::after_exit(ended, exited) {
                ::core::result::Result::Err((error, flow)) => {
                    #[allow(unreachable_code)]
                    let error = if scope.as_ref().handled_block_failure() {
                        error
                    } else {
                        match flow {
                            ::async_with::__private::Flow::Value(value) => error,
                            ::async_with::__private::Flow::Left(way) => {
                                let way = ::async_with::__private::Held(way);
                                (&&&::async_with::__private::keep::Keep::of(&error, &way))
                                    .async_with_keep()
                                    .keep(error, way)
                            }
                        }
                    };
                    {
                        #[allow(unreachable_code, clippy::diverging_sub_expression)]
                        return (&&::async_with::__private::raise::Probe(&error))
                            .async_with_raise_kind()
                            .raise(error);
                    }
                }
                ::core::result::Result::Ok(
                    (::async_with::__private::Flow::Value(value), _),
                ) => value,
                ::core::result::Result::Ok(
                    (::async_with::__private::Flow::Left(way), action),
                ) => {
                    let suppressed = (&&::async_with::__private::SuppressedValue(
                        value_type,
                    ))
                        .async_with_suppressed();
                    match ::async_with::__private::suppressed_way(
                        action,
                        &way,
                        suppressed,
                    ) {
                        ::core::option::Option::Some(value) => value,
                        ::core::option::Option::None => {
                            #[allow(unreachable_code, clippy::needless_return)]
                            match way {
                                AsyncWithWays::Return0(leave) => return leave.value,
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(value)
}
