//! The examples of the `tokio` integrations run, exit 0, print what they
//! should and leave behind what they should (built by `cargo test`, like
//! those of `tests/examples.rs`).

#[path = "common/examples.rs"]
mod examples;

use examples::run_example;

#[test]
fn tcp_echo_exchanges_messages_and_the_server_sees_a_clean_eof() {
    assert_eq!(
        run_example("tcp_echo", &[]),
        [
            "server: listening on 127.0.0.1 (ephemeral port)",
            "server: accepted a connection from 127.0.0.1",
            "client: sent \"hello\", got \"hello\"",
            "client: sent \"async with\", got \"async with\"",
            // Printed by the server when read() returned 0, before the
            // client's exit returned: the shutdown reached it as a FIN.
            "server: clean EOF from the client after 17 bytes",
            "client: connection closed gracefully",
            "server: echoed 17 bytes in all",
        ]
    );
}

#[test]
fn task_group_cancels_the_other_jobs_and_surfaces_the_failure() {
    let lines = run_example("task_group", &[]);
    assert_eq!(lines[..2], ["spawned 5 jobs", "job 3 fails"]);
    // Aborted tasks are dropped in the JoinSet's order: compare as a set.
    let mut cancelled = lines[2..6].to_vec();
    cancelled.sort();
    assert_eq!(
        cancelled,
        [
            "job 1 cancelled",
            "job 2 cancelled",
            "job 4 cancelled",
            "job 5 cancelled"
        ]
    );
    assert_eq!(
        lines[6..],
        [
            "error: 1 task failed (4 cancelled): job 3: bad input",
            "failure: job 3: bad input",
            "cancelled: 4",
            "done before the 10 s jobs would have finished: true",
        ]
    );
}
