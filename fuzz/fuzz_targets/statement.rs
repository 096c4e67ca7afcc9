//! in-toto statements and the four Glassbox predicates
//! (`statement::Statement::from_json`, `Attestation::from_statement`,
//! `Attestation::from_envelope`). A statement that parses must re-serialise to one that
//! parses equal; an attestation that validates must survive its own
//! `to_statement`/`to_payload` unchanged; and the log's lean parse
//! (`Attestation::of_envelope`) must accept and refuse exactly what
//! `from_envelope` does, with the same errors.
#![no_main]

use glassbox_core::dsse::Envelope;
use glassbox_core::statement::{Attestation, Statement, PAYLOAD_TYPE};
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

/// `data` as the payload of an in-toto envelope, through both parses.
fn check_lean_parse(data: &[u8]) {
    let envelope = Envelope {
        payload: data.to_vec(),
        payload_type: PAYLOAD_TYPE.to_string(),
        signatures: Vec::new(),
    };
    assert_eq!(
        Attestation::of_envelope(&envelope),
        Attestation::from_envelope(&envelope).map(|(_, a)| a),
        "of_envelope and from_envelope disagree"
    );
}

fuzz_target!(|data: &[u8]| {
    check_statement(data);
    check_lean_parse(data);
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
