//! `glassbox rebuild --vary`: a build that depends only on its sources is stable
//! under variation; one that reads the time zone, locale, umask or hostname is caught
//! before anyone attests it; what the recipe pins itself is held.

mod common;
mod rebuild_support;

use rebuild_support::{report, Fixture, BUILD};

#[test]
fn a_build_of_its_sources_alone_is_stable_and_leaves_nothing_behind() {
    let fx = Fixture::new();
    let json = report(&fx.rebuild(BUILD, "out", &["--vary", "--json"]), 0);
    assert_eq!(json["status"], "stable", "{json}");
    assert_eq!(json["first"]["output"], fx.expected_output().as_str());
    assert_eq!(json["first"]["output"], json["second"]["output"]);
    let varied = json["varied"].to_string();
    for what in ["scratch directory", "TZ", "LC_ALL", "umask", "hostname"] {
        assert!(varied.contains(what), "{what} not varied: {varied}");
    }
    assert!(json["held"].to_string().contains("build path /build/src"));
    assert!(fx.leftover_scratch_dirs().is_empty());
}

#[test]
fn each_leak_of_the_environment_into_the_output_is_caught() {
    let fx = Fixture::new();
    for leak in [
        "date +%z",
        "umask",
        "hostname",
        "locale charmap",
        "echo \"$LC_ALL\"",
        // The wall clock (libfaketime, which CI installs: the faketime package).
        "date -u +%Y",
    ] {
        let out = fx.rebuild(&format!("{leak} > out"), "out", &["--vary", "--json"]);
        let json = report(&out, 1);
        assert_eq!(json["status"], "varies", "{leak}: {json}");
        assert_ne!(json["first"]["output"], json["second"]["output"], "{leak}");
        // Kept, for a look at what differs.
        let kept = json["scratchDir"].as_str().unwrap();
        assert!(std::path::Path::new(kept)
            .join("first/source/out")
            .is_file());
    }
}

#[test]
fn what_the_recipe_pins_is_held_and_a_failing_build_is_not_called_stable() {
    let fx = Fixture::new();
    let out = fx.rebuild(
        "{ date +%z; echo \"$LC_ALL\"; } > out",
        "out",
        &["--vary", "--env", "TZ=UTC", "--env", "LC_ALL=C", "--json"],
    );
    let json = report(&out, 0);
    assert_eq!(json["status"], "stable", "{json}");
    let varied = json["varied"].to_string();
    assert!(
        !varied.contains("TZ") && !varied.contains("LC_ALL"),
        "{varied}"
    );
    assert!(
        json["held"].to_string().contains("TZ, LC_ALL")
            || json["held"].to_string().contains("LC_ALL, TZ")
    );

    let text = String::from_utf8(fx.rebuild("exit 3", "out", &["--vary"]).stdout).unwrap();
    assert!(text.contains("DIVERGED"), "{text}");
    assert!(!text.contains("STABLE"), "{text}");
}

/// A build that stamps the year is stable when the clock is kept (for toolchains
/// libfaketime hangs), and the report says the clock was held, not varied.
#[test]
fn keeping_the_clock_holds_it_and_says_so() {
    let fx = Fixture::new();
    let out = fx.rebuild(
        "date -u +%Y > out",
        "out",
        &["--vary", "--vary-keep-clock", "--json"],
    );
    let json = report(&out, 0);
    assert_eq!(json["status"], "stable", "{json}");
    assert!(!json["varied"].to_string().contains("wall clock"), "{json}");
    assert!(
        json["held"]
            .to_string()
            .contains("the wall clock (--vary-keep-clock)"),
        "{json}"
    );
}
