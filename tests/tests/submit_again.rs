//! `glassbox submit` run again, with the real binaries over loopback: the server is
//! asked first, a receipt already saved for the same statement is kept and the
//! answer says `(already logged)`, and a file that is something else is refused
//! with what it is and how to replace it (docs/cli.md).

use glassbox_tests::story::Story;

#[test]
fn submitting_again_keeps_a_matching_receipt_and_refuses_any_other_file() {
    let story = Story::happy();
    let (first, second) = (&story.submitted[0], &story.submitted[1]);
    let submit = |envelope: &str, extra: &[&str]| {
        let mut args = vec!["submit", envelope, "--server", &story.url];
        args.extend(extra);
        story.glassbox.run(args)
    };

    // The receipt beside the envelope: written the first time, kept after.
    let run = submit(first, &[]);
    let text = run.ok();
    assert!(text.contains("(already logged)"), "{text}");
    let run = submit(first, &[]);
    let text = run.ok();
    assert!(
        text.contains("(already logged)")
            && text.contains("(kept: it is this statement's receipt)"),
        "{text}"
    );

    // Another statement's receipt, or no receipt at all, in the way.
    let run = submit(second, &["-o", &format!("{first}.0.receipt.json")]);
    let text = run.exits(2);
    assert!(
        text.contains("exists and is the receipt of another statement")
            && text.contains("use --force to replace it"),
        "{text}"
    );
    std::fs::write(story.dir.join("junk.json"), b"{}").unwrap();
    let run = submit(second, &["-o", "junk.json"]);
    let text = run.exits(2);
    assert!(
        text.contains("junk.json exists and is not a receipt"),
        "{text}"
    );
    let run = submit(second, &["-o", "junk.json", "--force"]);
    run.ok();

    // The server is asked first: when it is down, that is what the error says,
    // even with a receipt in the way.
    let mut story = story;
    let first = story.submitted[0].clone();
    story.stop_server();
    let run = story
        .glassbox
        .run(["submit", first.as_str(), "--server", story.url.as_str()]);
    let text = run.exits(2);
    assert!(text.contains("is the log server running"), "{text}");
}
