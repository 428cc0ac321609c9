async fn golden() -> Result<u64, Error> {
    let value = {
        #[allow(unused_imports)]
        use ::async_with::__private::methods::*;
        let mut scope = ::async_with::__private::pin!(
            ::async_with::__private::scope(::async_with::__private::manager(match
            (Connection::open(),) { (manager,) => (&& && ::async_with::__private::Lend(&
            manager)).async_with_lend().lend(manager), }))
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
            {
                conn.touch();
            }
        });
        let exited = scope
            .as_mut()
            .exit_after(&mut ended, |_| ::async_with::Outcome::Completed)
            .await;
        match ::async_with::__private::after_exit(ended, exited) {
            ::core::result::Result::Ok((value, _)) => value,
            ::core::result::Result::Err((error, _)) => {
                #[allow(unreachable_code, clippy::diverging_sub_expression)]
                return (&&::async_with::__private::raise::Probe(&error))
                    .async_with_raise_kind()
                    .raise(error);
            }
        }
    };
    Ok(value)
}
