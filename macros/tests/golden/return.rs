async fn golden() -> Result<u64, Error> {
    let value = {
        let return_type = ::core::marker::PhantomData;
        if false {
            return ::async_with::__private::return_type(return_type);
        }
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
                            return AsyncWithFlow0::Exit0(Err(Empty));
                        }
                    },
                );
                AsyncWithFlow0::Value(value)
            });
            if false {
                if let ::core::result::Result::Ok(AsyncWithFlow0::Exit0(value)) = ended {
                    return value;
                }
            }
            let exited = scope
                .as_mut()
                .exit_after(
                    &mut ended,
                    |flow| {
                        #[allow(unused_imports)]
                        use ::async_with::__private::{
                            ShapeFallible as _, ShapeOther as _, ViewDebug as _,
                            ViewError as _, ViewOpaque as _,
                        };
                        match flow {
                            AsyncWithFlow0::Exit0(value) => {
                                match (&&&::async_with::__private::Shape(value)).ending() {
                                    ::async_with::__private::Ending::Completed => {
                                        ::async_with::Outcome::Completed
                                    }
                                    ::async_with::__private::Ending::None => {
                                        ::async_with::Outcome::Failed(::async_with::Failure::none())
                                    }
                                    ::async_with::__private::Ending::Error(error) => {
                                        ::async_with::Outcome::Failed(
                                            (&&::async_with::__private::View(error)).failure(),
                                        )
                                    }
                                }
                            }
                            #[allow(unreachable_patterns)]
                            _ => ::async_with::Outcome::Completed,
                        }
                    },
                )
                .await;
            #[allow(unreachable_code, clippy::diverging_sub_expression)]
            match ::async_with::__private::after_exit(ended, exited) {
                ::core::result::Result::Err((error, _)) => {
                    #[allow(unreachable_code)]
                    let error = error;
                    ::async_with::__private::raise!(error)
                }
                ::core::result::Result::Ok((flow, action)) => {
                    match flow {
                        AsyncWithFlow0::Value(value) => value,
                        AsyncWithFlow0::Exit0(value) => {
                            #[allow(unused_imports)]
                            use ::async_with::__private::{
                                ShapeFallible as _, ShapeOther as _, ViewDebug as _,
                                ViewError as _, ViewOpaque as _,
                            };
                            let action = if (&&&::async_with::__private::Shape(&value))
                                .ending()
                                .is_completed()
                            {
                                ::async_with::ExitAction::Propagate
                            } else {
                                action
                            };
                            {
                                #[allow(unused_imports)]
                                use ::async_with::__private::{
                                    SuppressedOther as _, SuppressedUnit as _,
                                };
                                let suppressed = (&&::async_with::__private::SuppressedValue(
                                    value_type,
                                ))
                                    .value();
                                match ::async_with::__private::suppressed(
                                    action,
                                    suppressed,
                                ) {
                                    ::core::option::Option::Some(value) => value,
                                    ::core::option::Option::None => return value,
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(value)
}
