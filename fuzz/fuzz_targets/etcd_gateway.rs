//! Answers of etcd's v3 JSON gateway, as the lease store reads them: the first two bytes are
//! the HTTP status (mod 900, + 100), the rest the body. Reading never panics; a 2xx JSON
//! answer without `error` is accepted (a lone `result` unwrapped), and a non-JSON one is
//! refused (retried only on 5xx); accepted answers are then decoded as every response the
//! store reads (transaction, range, lease), keys' values as lease entries. The rest of the
//! input, split in lines, is fed to the watch stream's reader, whose revision only grows.
#![no_main]
use libfuzzer_sys::fuzz_target;
use voxctl::fuzzing::{
    etcd_answer, etcd_watch_message, Answer, LeaseResponse, RangeResponse, TxnResponse,
};
use voxctl::lease::etcd::Entry;

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data {
        [a, b, rest @ ..] => (u16::from_le_bytes([*a, *b]) % 900 + 100, rest),
        _ => return,
    };
    let answer = etcd_answer(status, body).expect("a status in 100..=999");
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    match (&answer, &json) {
        (Answer::Connect(_), _) => panic!("reading an answer is never a connect failure"),
        (Answer::Fatal(_), None) if status < 500 || status > 599 => {}
        (Answer::Transient(_), None) if (500..=599).contains(&status) => {}
        (_, None) => panic!("non-JSON answer {answer:?}"),
        (Answer::Json(v), Some(j)) => {
            let is_error = j.as_object().is_some_and(|m| m.contains_key("error"));
            let lone_result = j
                .as_object()
                .is_some_and(|m| m.len() == 1 && m.contains_key("result"));
            assert!(!is_error || lone_result);
            if lone_result {
                assert_eq!(Some(v), j.get("result"));
            } else {
                assert_eq!(v, j);
                assert!((200..=299).contains(&status));
            }
        }
        _ => {}
    }
    if let Answer::Json(v) = answer {
        if let Ok(txn) = serde_json::from_value::<TxnResponse>(v.clone()) {
            for i in 0..txn.responses.len() {
                for kv in txn.kvs(i) {
                    let _ = serde_json::from_slice::<Entry>(&kv.value);
                }
                let _ = txn.kv(i);
            }
        }
        if let Ok(range) = serde_json::from_value::<RangeResponse>(v.clone()) {
            for kv in &range.kvs {
                let _ = serde_json::from_slice::<Entry>(&kv.value);
            }
        }
        let _ = serde_json::from_value::<LeaseResponse>(v);
    }
    let mut next_rev = 0i64;
    for line in body.split_inclusive(|&b| b == b'\n') {
        let before = next_rev;
        let _ = etcd_watch_message(line, &mut next_rev);
        assert!(next_rev >= before, "the watch revision never goes back");
    }
});
