//! Request heads that let go of the connection's read buffer.
//!
//! actix-web keeps up to 128 finished requests per HTTP worker to reuse their allocations, each
//! with its head until a later request takes its place. The head's header values are slices of
//! the connection's read buffer, so each kept request keeps that whole buffer alive: 8 KiB for
//! most requests, but about 128 KiB for an upload, whose body had grown the buffer by the time
//! the head was read. After 256 parallel uploads the idle API held 33 MiB that way (a jemalloc
//! heap profile: `BytesMut::reserve_inner` under actix's HTTP dispatcher; 256 small requests
//! at once, which take the kept requests' places, gave it back). A request whose body may grow
//! the buffer gets header values of its own, a copy of a few short strings, so the buffer goes
//! when the connection does.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;

/// The read buffer's size before a body grows it (actix-http's `HW_BUFFER_SIZE`).
const READ_BUFFER_BYTES: usize = 8 * 1024;

/// Middleware (outermost, before anything else holds the request): copies the header values
/// of a request whose body may grow the read buffer.
pub async fn own_headers(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if may_grow_read_buffer(req.headers()) {
        let owned = copied(req.headers());
        *req.headers_mut() = owned;
    }
    next.call(req).await
}

/// A body longer than the read buffer, or of unannounced length (chunked).
fn may_grow_read_buffer(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || crate::extract::declares_more_than(headers, READ_BUFFER_BYTES)
}

/// The same headers, each value in an allocation of its own (a value that would not parse
/// again is kept as it is).
fn copied(headers: &HeaderMap) -> HeaderMap {
    let mut owned = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let value = HeaderValue::from_bytes(value.as_bytes()).unwrap_or_else(|_| value.clone());
        owned.append(name.clone(), value);
    }
    owned
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderName;
    use actix_web::web::Bytes;

    #[test]
    fn copied_headers_keep_nothing_of_the_buffer_they_were_read_from() {
        let buffer = Bytes::from(
            b"content-type: multipart/form-data; boundary=x\r\ncontent-length: 150000\r\n".to_vec(),
        );
        let mut read = HeaderMap::new();
        for (name, range) in [("content-type", 14..45), ("content-length", 63..69)] {
            read.append(
                HeaderName::from_static(name),
                HeaderValue::from_maybe_shared(buffer.slice(range)).unwrap(),
            );
        }
        read.append(
            HeaderName::from_static("x-twice"),
            HeaderValue::from_static("a"),
        );
        read.append(
            HeaderName::from_static("x-twice"),
            HeaderValue::from_static("b"),
        );
        let owned = copied(&read);
        drop(read);
        assert!(buffer.is_unique(), "a header value still shares the buffer");
        assert_eq!(
            owned.get(header::CONTENT_TYPE).unwrap(),
            "multipart/form-data; boundary=x"
        );
        assert_eq!(owned.get(header::CONTENT_LENGTH).unwrap(), "150000");
        let twice: Vec<_> = owned.get_all("x-twice").collect();
        assert_eq!(twice, ["a", "b"]);
    }

    #[test]
    fn only_bodies_longer_than_the_read_buffer_or_chunked_are_copied() {
        let with = |name: &'static str, value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
            headers
        };
        assert!(!may_grow_read_buffer(&HeaderMap::new()));
        assert!(!may_grow_read_buffer(&with("content-length", "8192")));
        assert!(may_grow_read_buffer(&with("content-length", "8193")));
        assert!(may_grow_read_buffer(&with("transfer-encoding", "chunked")));
    }
}
