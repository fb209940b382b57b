//! A record's headers, read without panicking on a name that is not UTF-8.
//!
//! rdkafka's [`Headers::iter`](rdkafka::message::Headers::iter) unwraps
//! each header name as UTF-8, and the broker keeps names as bytes: a
//! producer of any other client (franz-go, a C client) can write
//! `r\xe9gion`, and one such record made every reader of it panic, ingest
//! at every restart on the same batch. These functions read a name lossily
//! (U+FFFD for what is not UTF-8); a name is cut at a NUL, as librdkafka
//! gives it.

use std::borrow::Cow;
use std::ffi::CStr;

use rdkafka::bindings as rdsys;
use rdkafka::message::{BorrowedHeaders, Headers, Message, OwnedHeaders};

/// One header: its name (lossy UTF-8) and value (`None`: a null value).
pub type Header<'a> = (Cow<'a, str>, Option<&'a [u8]>);

/// Headers librdkafka holds, whose native list can be read directly.
///
/// # Safety
///
/// `native` must return a valid `rd_kafka_headers_t` list that lives as
/// long as the borrow of `self` ([`list`] reads it through librdkafka):
/// implemented here for rdkafka's two header types only.
pub unsafe trait NativeHeaders: Headers {
    #[doc(hidden)]
    fn native(&self) -> *const rdsys::rd_kafka_headers_t;
}

// SAFETY: a `BorrowedHeaders` reference is the address of the native list
// it borrows, for as long as it is borrowed (rdkafka reads it so).
unsafe impl NativeHeaders for BorrowedHeaders {
    fn native(&self) -> *const rdsys::rd_kafka_headers_t {
        // A `BorrowedHeaders` reference is the native list's address, as
        // rdkafka itself reads it.
        (self as *const BorrowedHeaders).cast()
    }
}

// SAFETY: the list an `OwnedHeaders` owns, through `as_borrowed`.
unsafe impl NativeHeaders for OwnedHeaders {
    fn native(&self) -> *const rdsys::rd_kafka_headers_t {
        self.as_borrowed().native()
    }
}

/// `headers` with a header added whose name is bytes, not necessarily
/// UTF-8 (rdkafka's `insert` takes a `&str`): what another client can
/// write, for tests of the readers above. A name with a NUL in it is cut
/// there, as librdkafka reads it back.
pub fn with_raw_name(headers: OwnedHeaders, name: &[u8], value: &[u8]) -> OwnedHeaders {
    let (name_len, value_len) = (
        isize::try_from(name.len()).unwrap_or(isize::MAX),
        isize::try_from(value.len()).unwrap_or(isize::MAX),
    );
    // SAFETY: the list is owned by `headers`, not shared; librdkafka
    // copies `name_len` bytes of the name and `value_len` of the value.
    // It only fails for a read-only list, which an owned one is not.
    let _ = unsafe {
        rdsys::rd_kafka_header_add(
            headers.native().cast_mut(),
            name.as_ptr().cast(),
            name_len,
            value.as_ptr().cast(),
            value_len,
        )
    };
    headers
}

/// Every header of `headers`, in order.
pub fn list<H: NativeHeaders + ?Sized>(headers: &H) -> Vec<Header<'_>> {
    let native = headers.native();
    (0..headers.count())
        .filter_map(|idx| {
            let mut name = std::ptr::null();
            let mut value = std::ptr::null();
            let mut size = 0usize;
            // SAFETY: `native` is the list `headers` owns or borrows,
            // alive for the returned borrow; librdkafka returns pointers
            // into it (a NUL-terminated name, `size` bytes of value).
            let err = unsafe {
                rdsys::rd_kafka_header_get_all(native, idx, &mut name, &mut value, &mut size)
            };
            if err != rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR || name.is_null() {
                return None;
            }
            // SAFETY: as above; the name is NUL-terminated.
            let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
            let value = (!value.is_null())
                // SAFETY: `size` bytes at `value`, owned by the list.
                .then(|| unsafe { std::slice::from_raw_parts(value.cast::<u8>(), size) });
            Some((name, value))
        })
        .collect()
}

/// Every header of `message`, in order (none: an empty list).
pub fn of<M>(message: &M) -> Vec<Header<'_>>
where
    M: Message,
    M::Headers: NativeHeaders,
{
    message.headers().map(list).unwrap_or_default()
}

/// The value of `message`'s first header named `name` (`None`: none, or a
/// null value).
pub fn value<'a, M>(message: &'a M, name: &str) -> Option<&'a [u8]>
where
    M: Message,
    M::Headers: NativeHeaders,
{
    of(message)
        .into_iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::message::{Header as RdHeader, OwnedMessage, Timestamp};

    /// Headers with a name that is not UTF-8, added as another client
    /// would (librdkafka's own call; rdkafka's API takes `&str` only).
    fn with_latin1_name() -> OwnedHeaders {
        let headers = OwnedHeaders::new().insert(RdHeader {
            key: "trace",
            value: Some(b"t-1".as_slice()),
        });
        with_raw_name(headers, b"r\xe9gion", b"EU")
    }

    #[test]
    fn a_name_that_is_not_utf8_is_read_lossily_not_a_panic() {
        let headers = with_latin1_name();
        let message = OwnedMessage::new(
            Some(b"{}".to_vec()),
            None,
            "raw".into(),
            Timestamp::NotAvailable,
            0,
            7,
            Some(headers),
        );
        let read = of(&message);
        assert_eq!(
            read,
            vec![
                (Cow::Borrowed("trace"), Some(b"t-1".as_slice())),
                (
                    Cow::Owned("r\u{fffd}gion".to_string()),
                    Some(b"EU".as_slice())
                ),
            ]
        );
        assert_eq!(value(&message, "trace"), Some(b"t-1".as_slice()));
        assert_eq!(value(&message, "other"), None);
        // What rdkafka's own reader does with it.
        let panics = std::panic::catch_unwind(|| {
            message
                .headers()
                .map(|h| h.iter().count())
                .unwrap_or_default()
        });
        assert!(panics.is_err(), "rdkafka still unwraps header names");
    }

    #[test]
    fn no_headers_and_null_values() {
        let message =
            OwnedMessage::new(None, None, "t".into(), Timestamp::NotAvailable, 0, 0, None);
        assert!(of(&message).is_empty());
        let headers = OwnedHeaders::new().insert(RdHeader::<&[u8]> {
            key: "empty",
            value: None,
        });
        assert_eq!(list(&headers), vec![(Cow::Borrowed("empty"), None)]);
    }
}
