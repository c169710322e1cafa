//! Edges of the chunk index format that no release of the tests reaches: sizes out of order
//! with the average above the maximum, and the reference to the index of an empty asset (the
//! bare 72-byte header), which is the smallest valid index.

use voxctl::checksum::Sha256;
use voxctl::chunks::{entry, header, index_name, Index, IndexRef, Params, HEADER_LEN};
use voxctl::Error;

#[test]
fn an_index_whose_average_is_over_its_maximum_is_refused() {
    // Each size within FastCDC's limits, min even and avg a power of two: only the order is
    // wrong (min <= avg holds, avg <= max does not).
    let params = Params {
        min: 256,
        avg: 4096,
        max: 2048,
    };
    let mut bytes = header(params, 1000, &Sha256::of(b"x"), 1).to_vec();
    bytes.extend_from_slice(&entry(1000, &[7; 32]));
    let err = Index::parse(&bytes).unwrap_err();
    assert!(matches!(err, Error::Integrity(_)), "{err}");
    assert!(
        err.to_string()
            .contains("the sizes are not in order min <= avg <= max"),
        "{err}"
    );
    assert!(params.validate().is_err());

    // The same file with max = avg parses: the refusal is the order, not anything else.
    let ok = Params {
        max: 4096,
        ..params
    };
    let mut bytes = header(ok, 1000, &Sha256::of(b"x"), 1).to_vec();
    bytes.extend_from_slice(&entry(1000, &[7; 32]));
    assert_eq!(Index::parse(&bytes).unwrap().params, ok);
}

#[test]
fn the_reference_to_the_index_of_an_empty_asset_is_72_bytes_and_valid() {
    let asset = "voicebox-server-cuda";
    let empty = Index {
        params: Params::DEFAULT,
        size: 0,
        sha256: Sha256::of(b""),
        chunks: Vec::new(),
    };
    let reference = empty.reference(asset);
    assert_eq!(reference.size, HEADER_LEN as u64);
    assert_eq!(reference.size, 72);
    assert_eq!(reference.name, index_name(asset));
    reference.validate(asset).unwrap();
    assert_eq!(Index::parse(&empty.to_bytes()).unwrap(), empty);

    // One byte shorter cannot hold a header.
    let short = IndexRef {
        size: HEADER_LEN as u64 - 1,
        ..reference
    };
    let err = short.validate(asset).unwrap_err();
    assert!(err.to_string().contains("a size of 71 bytes"), "{err}");
}
