//! When two repository URLs name the same repository, for search.
//!
//! Statements carry the repository URL their signer wrote, and people spell one
//! repository several ways: `https://git.example/app`, `…/app.git`, `…/app/`.
//! Search (the API, the web form and `glassbox history`) treats those as one:
//! two URLs match when their [`normalise`]d forms are equal. Nothing else is
//! rewritten — case, scheme, host spelling and a `www.` stay significant, since
//! hosts differ in what they treat as equal. The logged URL itself is never
//! changed; this is only how a query finds it.

/// `url` without one trailing `/` and then without one trailing `.git`:
/// `https://git.example/app.git/` → `https://git.example/app`.
pub fn normalise(url: &str) -> &str {
    let url = url.strip_suffix('/').unwrap_or(url);
    url.strip_suffix(".git").unwrap_or(url)
}

/// Every spelling whose [`normalise`]d form is `url`'s: the URL without the
/// suffixes, with `.git`, with `/`, and with `.git/`. A search for `url` matches
/// exactly the entries that name one of these, so storage can look them up as
/// plain values.
pub fn spellings(url: &str) -> Vec<String> {
    let base = normalise(url);
    let mut out: Vec<String> = [
        base.to_owned(),
        format!("{base}.git"),
        format!("{base}/"),
        format!("{base}.git/"),
    ]
    .into_iter()
    .filter(|s| normalise(s) == base)
    .collect();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trailing_git_and_slash_are_the_same_repository() {
        for url in [
            "https://git.example/app",
            "https://git.example/app.git",
            "https://git.example/app/",
            "https://git.example/app.git/",
        ] {
            assert_eq!(normalise(url), "https://git.example/app", "{url}");
        }
    }

    #[test]
    fn case_scheme_and_inner_git_stay_significant() {
        assert_eq!(
            normalise("https://git.example/App"),
            "https://git.example/App"
        );
        assert_eq!(
            normalise("http://git.example/app"),
            "http://git.example/app"
        );
        assert_eq!(
            normalise("https://git.example/app.github"),
            "https://git.example/app.github"
        );
        // Only one suffix of each goes.
        assert_eq!(
            normalise("https://git.example/app.git.git"),
            "https://git.example/app.git"
        );
        assert_eq!(
            normalise("https://git.example/app//"),
            "https://git.example/app/"
        );
    }

    #[test]
    fn the_spellings_of_a_url_are_exactly_those_that_normalise_to_it() {
        let want = [
            "https://git.example/app",
            "https://git.example/app.git",
            "https://git.example/app/",
            "https://git.example/app.git/",
        ];
        for url in want {
            assert_eq!(spellings(url), want, "{url}");
        }
        // "x.git.git" normalises to "x.git", whose bare spelling normalises to "x".
        let odd = spellings("https://git.example/x.git.git");
        assert_eq!(
            odd,
            [
                "https://git.example/x.git.git",
                "https://git.example/x.git.git/"
            ]
        );
        for s in &odd {
            assert_eq!(normalise(s), "https://git.example/x.git");
        }
    }
}
