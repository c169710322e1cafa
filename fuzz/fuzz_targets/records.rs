//! The JSON records of the state and data dirs and of the etcd store: install records
//! (`backends/A.json`), backend records, lease records (file store), etcd lease entries, slot
//! holder metadata (first document of a lock file) and relaunch markers. Each input is tried
//! as every kind. What a reader accepts must write back (times as RFC 3339) and read back
//! equal, and show its times without panicking: a time too far in the future to show is
//! refused when read, never a panic later.
#![no_main]
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;
use voxctl::backend::record::BackendRecord;
use voxctl::fuzzing::slot_holder;
use voxctl::installs::InstallRecord;
use voxctl::fuzzing::rfc3339_ms;
use voxctl::lease::etcd::Entry;
use voxctl::lease::LeaseRecord;
use voxctl::marker::RelaunchMarker;
use voxctl::slot::Holder;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(data: &[u8]) -> Option<T> {
    let r: T = serde_json::from_slice(data).ok()?;
    let written = serde_json::to_vec(&r).expect("an accepted record writes back");
    let back: T = serde_json::from_slice(&written).expect("a written record reads back");
    assert_eq!(back, r);
    Some(r)
}

fuzz_target!(|data: &[u8]| {
    let _ = round_trip::<InstallRecord>(data);
    let _ = round_trip::<BackendRecord>(data);
    let _ = round_trip::<RelaunchMarker>(data);
    if let Some(r) = round_trip::<LeaseRecord>(data) {
        let _ = rfc3339_ms(r.acquired_wall_ms);
    }
    if let Some(e) = round_trip::<Entry>(data) {
        let _ = rfc3339_ms(e.acquired_wall_ms);
    }
    let _ = round_trip::<Holder>(data);
    if let Some(h) = slot_holder(data) {
        let written = serde_json::to_vec(&h).expect("a holder writes back");
        assert_eq!(slot_holder(&written), Some(h));
    }
});
