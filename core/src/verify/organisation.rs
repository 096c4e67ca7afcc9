//! Organisations: the unit in which independence is counted (docs/design.md §6a).
//!
//! A quorum of keys says nothing about independence — one company can hold any number
//! of keys. What the log records about who holds a key is the `organisation` the
//! operator wrote when it registered the key, so quorums count distinct registered
//! organisations. Two registrations name the same organisation when their names are
//! equal after Unicode lower-casing and collapsing runs of whitespace ("App Vendor
//! Inc" = " app  vendor INC"). Anything else — punctuation, legal suffixes, look-alike
//! characters — is the operator's to get right: it vouches for organisations when it
//! registers keys, and a customer who does not trust that pins keys instead
//! (docs/verification.md, "Independence").

use std::collections::BTreeMap;

use crate::registry::KeyRecord;

/// The comparison form of an organisation name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct OrgId(String);

impl OrgId {
    pub(super) fn of(name: &str) -> OrgId {
        let mut collapsed = String::with_capacity(name.len());
        for word in name.split_whitespace() {
            if !collapsed.is_empty() {
                collapsed.push(' ');
            }
            collapsed.push_str(word);
        }
        if collapsed.is_ascii() {
            collapsed.make_ascii_lowercase();
            return OrgId(collapsed);
        }
        // Lower-cased whole: `to_lowercase` reads a word's end (final sigma).
        OrgId(collapsed.to_lowercase())
    }

    pub(super) fn of_key(record: &KeyRecord) -> OrgId {
        OrgId::of(&record.organisation)
    }
}

/// A set of organisations, each remembered with the name it was first seen under.
#[derive(Clone, Debug, Default)]
pub(super) struct Organisations(BTreeMap<OrgId, String>);

impl Organisations {
    pub(super) fn insert(&mut self, record: &KeyRecord) {
        self.0
            .entry(OrgId::of_key(record))
            .or_insert_with(|| record.organisation.clone());
    }

    pub(super) fn contains(&self, record: &KeyRecord) -> bool {
        self.0.contains_key(&OrgId::of_key(record))
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    pub(super) fn names(&self) -> Vec<String> {
        self.0.values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::OrgId;

    #[test]
    fn case_and_whitespace_do_not_make_another_organisation() {
        assert_eq!(
            OrgId::of("App Vendor Inc"),
            OrgId::of("  app\tvendor   INC ")
        );
        assert_eq!(OrgId::of("Prüfstelle GmbH"), OrgId::of("PRÜFSTELLE GMBH"));
        assert_eq!(OrgId::of("\u{b}App\u{c}Vendor\r"), OrgId::of("app vendor"));
        // A capital sigma ending a word lowers to the final form, ς (U+03C2).
        assert_eq!(OrgId::of("ΟΔΟΣ  Co").0, "οδο\u{3c2} co");
    }

    #[test]
    fn other_spellings_are_other_organisations() {
        assert_ne!(OrgId::of("App Vendor Inc"), OrgId::of("App Vendor Inc."));
        assert_ne!(OrgId::of("AppVendor"), OrgId::of("App Vendor"));
    }
}
