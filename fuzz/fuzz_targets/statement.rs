//! in-toto statements and the four Glassbox predicates
//! (`statement::Statement::from_json`, `Attestation::from_statement`,
//! `Attestation::from_envelope`). A statement that parses must re-serialise to one that
//! parses equal; an attestation that validates must survive its own
//! `to_statement`/`to_payload` unchanged.
#![no_main]

use glassbox_core::dsse::Envelope;
use glassbox_core::statement::{Attestation, Statement};
use libfuzzer_sys::fuzz_target;

fn check_statement(bytes: &[u8]) {
    let Ok(statement) = Statement::from_json(bytes) else {
        return;
    };
    let json = statement.to_json();
    let reparsed = Statement::from_json(&json).expect("Statement::to_json output must parse");
    assert_eq!(reparsed, statement, "Statement JSON round trip changed it");

    let Ok(attestation) = Attestation::from_statement(&statement) else {
        return;
    };
    assert!(!attestation.allowed_roles().is_empty());
    assert_eq!(attestation.predicate_type(), statement.predicate_type);
    let rebuilt = attestation.to_statement();
    let again = Attestation::from_statement(&rebuilt)
        .expect("to_statement of a valid attestation must validate");
    assert_eq!(
        again, attestation,
        "typed round trip through to_statement changed it"
    );
    let payload = attestation.to_payload();
    let from_payload =
        Statement::from_json(&payload).expect("to_payload of a valid attestation must parse");
    assert_eq!(
        from_payload, rebuilt,
        "to_payload does not parse to to_statement"
    );
    assert_eq!(
        Attestation::from_statement(&from_payload).as_ref(),
        Ok(&attestation),
        "attestation changed through its own payload"
    );
}

fuzz_target!(|data: &[u8]| {
    check_statement(data);
    if let Ok(envelope) = Envelope::from_json(data) {
        if let Ok((statement, attestation)) = Attestation::from_envelope(&envelope) {
            assert_eq!(
                Attestation::from_statement(&statement).as_ref(),
                Ok(&attestation)
            );
        }
        check_statement(&envelope.payload);
    }
});
