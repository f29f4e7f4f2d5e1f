//! HTTP/1.1 for the L7 policy, without I/O: a strict request-head parser, the framing checks
//! that keep request smuggling out, request-target normalisation, and Cilium's HTTP rule
//! semantics including `headerMatches` mismatch actions. The proxy in
//! [`http_proxy`](crate::http_proxy) (feature `proxy`) is a thin shell around these.
//!
//! # What a request must look like
//!
//! [`RequestHead::parse`] and [`FramingGuard`] accept a subset of RFC 9112 and refuse the
//! rest with an [`HttpError`] whose [`status`](HttpError::status) is 400 (431 when the head
//! is too large, 505 for another HTTP version):
//!
//! - every line ends with CRLF (a bare LF or CR is refused); empty lines before the request
//!   line are skipped;
//! - request line `method SP target SP HTTP/1.1|HTTP/1.0`, one space each, the target made of
//!   visible ASCII;
//! - header fields `name ":" OWS value OWS`: the name a token with nothing between it and the
//!   colon, the value without control characters (HTAB allowed); a line that starts with
//!   SP/HTAB (obs-fold, a continuation of the previous field) is refused;
//! - framing: at most one `Content-Length`, one decimal number without sign, list or spaces
//!   inside; at most one `Transfer-Encoding`, exactly `chunked` (any case; other codings are
//!   not forwarded), never in HTTP/1.0; never both; HTTP/1.1 needs exactly one `Host`;
//! - chunked bodies: chunk sizes of 1 to 16 hex digits, optional whitespace and `;` chunk
//!   extensions, CRLF after the size and after the data; trailer fields follow the header
//!   rules. Any other byte is a bad chunk.
//!
//! [`FramingGuard`] applies these to a byte stream (head, body, next head...) and tells how
//! many bytes are validated; the proxy hands hyper only validated bytes, so a request hyper
//! would read differently from us never reaches it.
//!
//! # Request-target normalisation
//!
//! [`normalize_target`] makes the path canonical before rules see it, and the upstream gets
//! the canonical form, so what was checked is what is served:
//!
//! - percent-encoded unreserved characters (`A-Z a-z 0-9 - . _ ~`) are decoded, other
//!   escapes are kept with upper-case hex digits;
//! - an encoded `/` (`%2F`), `\` (`%5C`) or NUL (`%00`), a raw `\`, an invalid escape, a
//!   fragment (`#`) or a dot segment with parameters (`..;x`, `.%3B`) is refused (400): their
//!   meaning differs between servers;
//! - duplicate slashes are merged, then `.` and `..` segments removed (RFC 3986 §5.2.4;
//!   `..` above the root stays at the root);
//! - the query is kept as sent (rules match `path?query`, as Cilium's `:path` match does);
//! - `*` (asterisk form) is kept.
//!
//! # Rules
//!
//! As in Cilium: `method`, `path` and `host` are regular expressions matched against the
//! whole string; `headers` entries require a header to be present (`Name`) or to have a value
//! (`Name: value`, one line of the header equal to it); a request is allowed when any rule of
//! any applicable [`L7Policy`] matches ([`check`]). `headerMatches` entries without a mismatch
//! action are requirements too. Entries with one never make a rule fail; when the rule
//! matches but the header does not (no line equal to the value, or missing), the action
//! applies to the request:
//!
//! - `LOG`: unchanged, the mismatch is reported ([`Verdict::mismatches`]);
//! - `ADD`: one more line `name: value` (other lines stay);
//! - `DELETE`: every line of the header removed;
//! - `REPLACE`: every line replaced by `name: value` (added when missing).
//!
//! An entry without a value only asks for presence: `ADD`/`REPLACE` then add an empty value.
//! The first matching rule (policies in the order given, rules in policy order) decides, and
//! only its edits apply.

use std::borrow::Cow;

use cilium_policy::l7::{HttpRequest, HttpRule, L7Policy, L7Rules, MismatchAction};

/// Default bound of a request head (request line, header fields, final CRLF).
pub const DEFAULT_MAX_HEAD_BYTES: usize = 16 * 1024;
/// Default bound of the number of header fields.
pub const DEFAULT_MAX_HEADERS: usize = 100;
/// Bound of a chunk-size line (with extensions).
pub const MAX_CHUNK_LINE: usize = 4096;

/// Bounds on what a request head may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of a head, leading empty lines and final CRLF included; also the bound of a
    /// chunked body's trailer section.
    pub max_head_bytes: usize,
    /// Header fields of a head (and trailer fields of a body).
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head_bytes: DEFAULT_MAX_HEAD_BYTES,
            max_headers: DEFAULT_MAX_HEADERS,
        }
    }
}

/// Why a request is refused before any rule is consulted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The head does not fit in the limit.
    #[error("request head is longer than {limit} bytes")]
    HeadTooLarge {
        /// The limit.
        limit: usize,
    },
    /// Too many header (or trailer) fields.
    #[error("request has more than {limit} header fields")]
    TooManyHeaders {
        /// The limit.
        limit: usize,
    },
    /// A line ends with a bare LF (or holds a bare CR).
    #[error("request line or header field not terminated by CRLF")]
    BareLineEnd,
    /// The request line is not `method SP target SP version`.
    #[error("malformed request line")]
    RequestLine,
    /// An HTTP version other than 1.0 and 1.1.
    #[error("HTTP version {version:?} is not supported")]
    Version {
        /// The version as sent.
        version: String,
    },
    /// A header field that is not `name: value`.
    #[error("malformed header field on line {line} of the head")]
    HeaderField {
        /// Line number in the head, the request line being 1.
        line: usize,
    },
    /// A field line that continues the previous one (obs-fold).
    #[error("obsolete line folding on line {line} of the head")]
    ObsFold {
        /// Line number in the head, the request line being 1.
        line: usize,
    },
    /// More than one `Content-Length` field.
    #[error("more than one Content-Length field")]
    DuplicateContentLength,
    /// A `Content-Length` that is not one decimal number.
    #[error("Content-Length {value:?} is not a decimal number")]
    BadContentLength {
        /// The value as sent (lossy UTF-8).
        value: String,
    },
    /// More than one `Transfer-Encoding` field.
    #[error("more than one Transfer-Encoding field")]
    DuplicateTransferEncoding,
    /// A `Transfer-Encoding` other than exactly `chunked`.
    #[error("Transfer-Encoding {value:?} is not exactly chunked")]
    TransferEncoding {
        /// The value as sent (lossy UTF-8).
        value: String,
    },
    /// `Transfer-Encoding` in an HTTP/1.0 request.
    #[error("Transfer-Encoding in an HTTP/1.0 request")]
    TransferEncodingHttp10,
    /// Both `Content-Length` and `Transfer-Encoding`.
    #[error("both Content-Length and Transfer-Encoding")]
    ContentLengthAndTransferEncoding,
    /// More than one `Host` field.
    #[error("more than one Host field")]
    DuplicateHost,
    /// An HTTP/1.1 request without `Host`.
    #[error("HTTP/1.1 request without Host")]
    MissingHost,
    /// A `Host` with characters an authority cannot hold.
    #[error("Host {value:?} is not an authority")]
    BadHost {
        /// The value as sent (lossy UTF-8).
        value: String,
    },
    /// A malformed chunk-size line.
    #[error("malformed chunk size line")]
    ChunkSize,
    /// Chunk data not followed by CRLF.
    #[error("chunk data not followed by CRLF")]
    ChunkData,
    /// A malformed trailer field.
    #[error("malformed trailer field")]
    Trailer,
    /// A request target that is neither origin form (`/...`) nor `*`.
    #[error("request target is not an absolute path")]
    TargetForm,
    /// A byte a request target cannot hold.
    #[error("request target holds byte 0x{byte:02x}")]
    TargetByte {
        /// The byte.
        byte: u8,
    },
    /// A `%` not followed by two hex digits.
    #[error("request target holds an invalid percent escape")]
    PercentEscape,
    /// `%2F` in the path.
    #[error("request path holds an encoded slash (%2F)")]
    EncodedSlash,
    /// `%5C` in the path.
    #[error("request path holds an encoded backslash (%5C)")]
    EncodedBackslash,
    /// `%00` in the path.
    #[error("request path holds an encoded NUL (%00)")]
    EncodedNul,
    /// A raw `\` in the path.
    #[error("request path holds a backslash")]
    Backslash,
    /// A fragment in the target.
    #[error("request target holds a fragment (#)")]
    Fragment,
    /// A `.` or `..` segment with parameters (`..;x`).
    #[error("request path holds a dot segment with parameters")]
    DotSegmentParameters,
}

impl HttpError {
    /// The status a server answers with: 431 for heads over the limits, 505 for another
    /// version, 400 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            HttpError::HeadTooLarge { .. } | HttpError::TooManyHeaders { .. } => 431,
            HttpError::Version { .. } => 505,
            _ => 400,
        }
    }
}

/// HTTP version of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// HTTP/1.0.
    Http10,
    /// HTTP/1.1.
    Http11,
}

impl Version {
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// How the body of a request is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyFraming {
    /// No body.
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// Chunked.
    Chunked,
}

/// A request head parsed strictly (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead<'a> {
    /// Method, e.g. `GET`.
    pub method: &'a str,
    /// Request target as sent.
    pub target: &'a str,
    /// Version.
    pub version: Version,
    /// Header fields (name as sent, value without surrounding whitespace).
    pub headers: Vec<(&'a str, &'a [u8])>,
    /// The `Host` value, if any.
    pub host: Option<&'a [u8]>,
    /// How the body is delimited.
    pub framing: BodyFraming,
    /// Length of the head in bytes (leading empty lines and final CRLF included).
    pub len: usize,
}

impl<'a> RequestHead<'a> {
    /// Parses the head at the start of `buf`. `Ok(None)`: the head is not complete yet (and
    /// nothing seen so far is wrong).
    ///
    /// # Errors
    ///
    /// The first violation found, scanning left to right.
    pub fn parse(buf: &'a [u8], limits: &Limits) -> Result<Option<RequestHead<'a>>, HttpError> {
        let mut scan = HeadScan::default();
        let Some(len) = scan.find_end(buf, limits)? else {
            return Ok(None);
        };
        let mut headers = Vec::new();
        let s = parse_head(&buf[..len], limits, &mut |n, v| headers.push((n, v)))?;
        Ok(Some(RequestHead {
            method: s.method,
            target: s.target,
            version: s.version,
            headers,
            host: s.host,
            framing: s.framing,
            len,
        }))
    }

    /// The values of header `name` (any case).
    pub fn values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a [u8]> + 's {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// Progress of the search for the end of a head, kept between calls so each byte is looked
/// at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct HeadScan {
    /// Offset of the next line start not yet examined.
    scanned: usize,
    /// Whether a non-empty line (the request line) was seen.
    seen_line: bool,
}

impl HeadScan {
    /// The length of the head at the start of `buf` once its empty line is in, `None` before.
    fn find_end(&mut self, buf: &[u8], limits: &Limits) -> Result<Option<usize>, HttpError> {
        let window = &buf[..buf.len().min(limits.max_head_bytes)];
        loop {
            let start = self.scanned;
            let Some(p) = window[start..].iter().position(|&b| b == b'\n') else {
                if buf.len() >= limits.max_head_bytes {
                    return Err(HttpError::HeadTooLarge {
                        limit: limits.max_head_bytes,
                    });
                }
                return Ok(None);
            };
            let nl = start + p;
            if nl == start || window[nl - 1] != b'\r' {
                return Err(HttpError::BareLineEnd);
            }
            self.scanned = nl + 1;
            if nl - 1 == start {
                // An empty line: the end of the head, or an empty line before the request
                // line (skipped).
                if self.seen_line {
                    return Ok(Some(nl + 1));
                }
            } else {
                self.seen_line = true;
            }
        }
    }
}

/// What [`parse_head`] finds besides the fields.
struct HeadSummary<'a> {
    method: &'a str,
    target: &'a str,
    version: Version,
    host: Option<&'a [u8]>,
    framing: BodyFraming,
}

/// `tchar` of RFC 9110.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A byte of a field value: HTAB, SP, visible ASCII, obs-text.
fn is_field_byte(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

/// Lines of a complete head (each without its CRLF; every line end was checked).
fn lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

/// Splits a field line into name and trimmed value.
fn field(line: &[u8]) -> Option<(&str, &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = &line[..colon];
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return None;
    }
    let value = line[colon + 1..].trim_ascii();
    if !value.iter().all(|&b| is_field_byte(b)) {
        return None;
    }
    // A token is ASCII.
    Some((std::str::from_utf8(name).ok()?, value))
}

/// Characters a `Host` value may hold (an authority: reg-name, IPv4, `[IPv6]`, port).
fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=:[]".contains(&b)
}

fn lossy(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

/// Parses a complete head (as found by [`HeadScan::find_end`]), calling `on_field` for each
/// header field.
fn parse_head<'a>(
    head: &'a [u8],
    limits: &Limits,
    on_field: &mut dyn FnMut(&'a str, &'a [u8]),
) -> Result<HeadSummary<'a>, HttpError> {
    let mut it = lines(head).skip_while(|l| l.is_empty());
    let request_line = it.next().ok_or(HttpError::RequestLine)?;
    let mut parts = request_line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HttpError::RequestLine);
    };
    if method.is_empty()
        || !method.iter().all(|&b| is_tchar(b))
        || target.is_empty()
        || !target.iter().all(|&b| (0x21..0x7f).contains(&b))
    {
        return Err(HttpError::RequestLine);
    }
    let version = match version {
        b"HTTP/1.1" => Version::Http11,
        b"HTTP/1.0" => Version::Http10,
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            return Err(HttpError::Version {
                version: lossy(version),
            });
        }
        _ => return Err(HttpError::RequestLine),
    };
    // Both are ASCII (checked above).
    let method = std::str::from_utf8(method).map_err(|_| HttpError::RequestLine)?;
    let target = std::str::from_utf8(target).map_err(|_| HttpError::RequestLine)?;

    let first_field_line = 2 + head
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count()
        / 2;
    let (mut content_length, mut transfer_encoding, mut host) = (None, None, None);
    let (mut cl_count, mut te_count, mut host_count, mut count) = (0usize, 0usize, 0usize, 0);
    for (i, line) in it.enumerate() {
        let line_no = first_field_line + i;
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            return Err(HttpError::ObsFold { line: line_no });
        }
        let (name, value) = field(line).ok_or(HttpError::HeaderField { line: line_no })?;
        count += 1;
        if count > limits.max_headers {
            return Err(HttpError::TooManyHeaders {
                limit: limits.max_headers,
            });
        }
        if name.eq_ignore_ascii_case("content-length") {
            cl_count += 1;
            content_length.get_or_insert(value);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            te_count += 1;
            transfer_encoding.get_or_insert(value);
        } else if name.eq_ignore_ascii_case("host") {
            host_count += 1;
            host.get_or_insert(value);
        }
        on_field(name, value);
    }

    if cl_count > 1 {
        return Err(HttpError::DuplicateContentLength);
    }
    if te_count > 1 {
        return Err(HttpError::DuplicateTransferEncoding);
    }
    let length = match content_length {
        Some(v) => Some(parse_content_length(v)?),
        None => None,
    };
    if let Some(te) = transfer_encoding {
        if version == Version::Http10 {
            return Err(HttpError::TransferEncodingHttp10);
        }
        if !te.eq_ignore_ascii_case(b"chunked") {
            return Err(HttpError::TransferEncoding { value: lossy(te) });
        }
        if length.is_some() {
            return Err(HttpError::ContentLengthAndTransferEncoding);
        }
    }
    if host_count > 1 {
        return Err(HttpError::DuplicateHost);
    }
    match host {
        None if version == Version::Http11 => return Err(HttpError::MissingHost),
        Some(h) if !h.iter().all(|&b| is_host_byte(b)) => {
            return Err(HttpError::BadHost { value: lossy(h) });
        }
        _ => {}
    }
    let framing = match (transfer_encoding, length) {
        (Some(_), _) => BodyFraming::Chunked,
        (None, Some(0) | None) => BodyFraming::Empty,
        (None, Some(n)) => BodyFraming::Length(n),
    };
    Ok(HeadSummary {
        method,
        target,
        version,
        host,
        framing,
    })
}

/// A `Content-Length` value: 1 to 19 decimal digits, nothing else.
fn parse_content_length(v: &[u8]) -> Result<u64, HttpError> {
    let bad = || HttpError::BadContentLength { value: lossy(v) };
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    v.iter()
        .try_fold(0u64, |n, &d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
        .ok_or_else(bad)
}

/// A chunk-size line without its CRLF: `1*16HEXDIG *(SP/HTAB) [";" ext]`.
fn parse_chunk_size(line: &[u8]) -> Result<u64, HttpError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > 16 {
        return Err(HttpError::ChunkSize);
    }
    let rest = &line[digits..];
    let ws = rest
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let rest = &rest[ws..];
    if !(rest.is_empty() || rest[0] == b';' && rest.iter().all(|&b| is_field_byte(b))) {
        return Err(HttpError::ChunkSize);
    }
    Ok(line[..digits].iter().fold(0u64, |n, &d| {
        // At most 16 hex digits: fits.
        (n << 4) | u64::from(hex_value(d).unwrap_or(0))
    }))
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Where a [`FramingGuard`] is in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GuardState {
    /// Waiting for (the end of) a request head.
    Head(HeadScan),
    /// In a body of known length: bytes left.
    Body(u64),
    /// Waiting for a chunk-size line (bytes of it scanned).
    ChunkSize(usize),
    /// In chunk data: bytes left.
    ChunkData(u64),
    /// Expecting the CRLF after chunk data.
    ChunkDataEnd,
    /// In the trailer section: line scan offset, bytes and fields so far.
    Trailers {
        scanned: usize,
        bytes: usize,
        fields: usize,
    },
}

/// Validates a stream of requests (heads and bodies, pipelined or kept alive) before a
/// server parses it: feed it the bytes not yet released, it says how many of them are
/// valid. A head is released only once complete and valid; body bytes as they come; chunk
/// lines and trailer fields once complete and valid.
///
/// ```
/// use cilium_l7::http::{FramingGuard, HttpError, Limits};
///
/// let mut g = FramingGuard::new(Limits::default());
/// let ok = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi";
/// assert_eq!(g.advance(ok), Ok(ok.len()));
/// let bad = b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n";
/// assert_eq!(g.advance(bad), Err(HttpError::DuplicateContentLength));
/// ```
#[derive(Debug, Clone)]
pub struct FramingGuard {
    limits: Limits,
    state: GuardState,
    heads: u64,
    failed: Option<(HttpError, GuardPosition)>,
    /// An error found after valid bytes, reported on the next call.
    pending: Option<HttpError>,
}

/// What a guard knows about the message it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardPosition {
    /// Between messages (or inside a head not yet released).
    BetweenMessages,
    /// Inside the body of a released head.
    InBody,
    /// After a violation.
    Failed,
}

impl FramingGuard {
    /// A guard at the start of a connection.
    pub fn new(limits: Limits) -> FramingGuard {
        FramingGuard {
            limits,
            state: GuardState::Head(HeadScan::default()),
            heads: 0,
            failed: None,
            pending: None,
        }
    }

    /// Heads released so far.
    pub fn heads(&self) -> u64 {
        self.heads
    }

    /// Whether the guard is between messages, in a body, or failed.
    pub fn position(&self) -> GuardPosition {
        match self.state {
            _ if self.failed.is_some() => GuardPosition::Failed,
            GuardState::Head(_) => GuardPosition::BetweenMessages,
            _ => GuardPosition::InBody,
        }
    }

    /// The violation found, with where it was (between messages: in a head, of which nothing
    /// was released; in a body: after its head was released).
    pub fn failure(&self) -> Option<(&HttpError, GuardPosition)> {
        self.failed.as_ref().map(|(e, p)| (e, *p))
    }

    /// Examines `data`, the bytes after the last released one, and returns how many of them
    /// (from the start) are valid and may go to the server. The caller keeps the rest and
    /// passes them again, followed by more, on the next call. A violation after some valid
    /// bytes is reported on the call after the one that released them.
    ///
    /// # Errors
    ///
    /// The violation found at the start of `data`; from then on every call fails.
    pub fn advance(&mut self, data: &[u8]) -> Result<usize, HttpError> {
        if let Some((e, _)) = &self.failed {
            return Err(e.clone());
        }
        if let Some(e) = self.pending.take() {
            self.fail(e.clone());
            return Err(e);
        }
        let mut pos = 0;
        match self.advance_inner(data, &mut pos) {
            Ok(()) => Ok(pos),
            Err(e) if pos > 0 => {
                self.pending = Some(e);
                Ok(pos)
            }
            Err(e) => {
                self.fail(e.clone());
                Err(e)
            }
        }
    }

    fn fail(&mut self, e: HttpError) {
        let at = match self.state {
            GuardState::Head(_) => GuardPosition::BetweenMessages,
            _ => GuardPosition::InBody,
        };
        self.failed = Some((e, at));
    }

    fn advance_inner(&mut self, data: &[u8], pos: &mut usize) -> Result<(), HttpError> {
        let limits = self.limits;
        loop {
            let pos_now = *pos;
            let rest = &data[pos_now..];
            match &mut self.state {
                GuardState::Head(scan) => {
                    let Some(len) = scan.find_end(rest, &limits)? else {
                        return Ok(());
                    };
                    let head = parse_head(&rest[..len], &limits, &mut |_, _| {})?;
                    *pos += len;
                    self.heads += 1;
                    self.state = match head.framing {
                        BodyFraming::Empty => GuardState::Head(HeadScan::default()),
                        BodyFraming::Length(n) => GuardState::Body(n),
                        BodyFraming::Chunked => GuardState::ChunkSize(0),
                    };
                }
                GuardState::Body(left) | GuardState::ChunkData(left) => {
                    if rest.is_empty() {
                        return Ok(());
                    }
                    let take = usize::try_from(*left).unwrap_or(usize::MAX).min(rest.len());
                    *pos += take;
                    *left -= take as u64;
                    if *left == 0 {
                        self.state = match self.state {
                            GuardState::Body(_) => GuardState::Head(HeadScan::default()),
                            _ => GuardState::ChunkDataEnd,
                        };
                    }
                }
                GuardState::ChunkDataEnd => match rest {
                    [] | [b'\r'] => return Ok(()),
                    [b'\r', b'\n', ..] => {
                        *pos += 2;
                        self.state = GuardState::ChunkSize(0);
                    }
                    _ => return Err(HttpError::ChunkData),
                },
                GuardState::ChunkSize(scanned) => {
                    let Some(line) =
                        find_line(rest, scanned, MAX_CHUNK_LINE, HttpError::ChunkSize)?
                    else {
                        return Ok(());
                    };
                    let size = parse_chunk_size(&rest[..line - 2])?;
                    *pos += line;
                    self.state = if size == 0 {
                        GuardState::Trailers {
                            scanned: 0,
                            bytes: 0,
                            fields: 0,
                        }
                    } else {
                        GuardState::ChunkData(size)
                    };
                }
                GuardState::Trailers {
                    scanned,
                    bytes,
                    fields,
                } => {
                    let room = limits.max_head_bytes.saturating_sub(*bytes);
                    let too_large = HttpError::HeadTooLarge {
                        limit: limits.max_head_bytes,
                    };
                    let Some(line) = find_line(rest, scanned, room, too_large)? else {
                        return Ok(());
                    };
                    let content = &rest[..line - 2];
                    if content.is_empty() {
                        *pos += line;
                        self.state = GuardState::Head(HeadScan::default());
                        continue;
                    }
                    if content[0] == b' ' || content[0] == b'\t' || field(content).is_none() {
                        return Err(HttpError::Trailer);
                    }
                    *fields += 1;
                    if *fields > limits.max_headers {
                        return Err(HttpError::TooManyHeaders {
                            limit: limits.max_headers,
                        });
                    }
                    *bytes += line;
                    *scanned = 0;
                    *pos += line;
                }
            }
        }
    }
}

/// Finds the end of the CRLF-terminated line at the start of `rest` (its length with the
/// CRLF), looking at most `max` bytes; `scanned` remembers how far a previous call looked.
fn find_line(
    rest: &[u8],
    scanned: &mut usize,
    max: usize,
    too_long: HttpError,
) -> Result<Option<usize>, HttpError> {
    let window = &rest[..rest.len().min(max)];
    match window[*scanned..].iter().position(|&b| b == b'\n') {
        Some(p) => {
            let nl = *scanned + p;
            if nl == 0 || window[nl - 1] != b'\r' || window[..nl - 1].contains(&b'\r') {
                return Err(HttpError::BareLineEnd);
            }
            *scanned = 0;
            Ok(Some(nl + 1))
        }
        None if rest.len() >= max => Err(too_long),
        None => {
            *scanned = window.len();
            Ok(None)
        }
    }
}

/// Unreserved characters of RFC 3986.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Makes a request target canonical (see the module documentation): `Borrowed` when it
/// already is.
///
/// ```
/// use cilium_l7::http::{HttpError, normalize_target};
///
/// assert_eq!(normalize_target("/public/%2e%2e/admin").unwrap(), "/admin");
/// assert_eq!(normalize_target("//a/./b/../c?x=/../y").unwrap(), "/a/c?x=/../y");
/// assert_eq!(normalize_target("/a%2fb"), Err(HttpError::EncodedSlash));
/// ```
///
/// # Errors
///
/// A target that cannot be made canonical safely.
pub fn normalize_target(target: &str) -> Result<Cow<'_, str>, HttpError> {
    if target == "*" {
        return Ok(Cow::Borrowed(target));
    }
    if !target.starts_with('/') {
        return Err(HttpError::TargetForm);
    }
    if let Some(&byte) = target
        .as_bytes()
        .iter()
        .find(|b| !(0x21..0x7f).contains(*b))
    {
        return Err(HttpError::TargetByte { byte });
    }
    if target.contains('#') {
        return Err(HttpError::Fragment);
    }
    let (path, query) = match target.find('?') {
        Some(q) => (&target[..q], Some(&target[q..])),
        None => (target, None),
    };
    if is_canonical_path(path) {
        return Ok(Cow::Borrowed(target));
    }
    let mut decoded = Vec::with_capacity(path.len());
    let b = path.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => return Err(HttpError::Backslash),
            b'%' => {
                let (Some(hi), Some(lo)) = (
                    b.get(i + 1).copied().and_then(hex_value),
                    b.get(i + 2).copied().and_then(hex_value),
                ) else {
                    return Err(HttpError::PercentEscape);
                };
                let c = hi << 4 | lo;
                match c {
                    b'/' => return Err(HttpError::EncodedSlash),
                    b'\\' => return Err(HttpError::EncodedBackslash),
                    0 => return Err(HttpError::EncodedNul),
                    c if is_unreserved(c) => decoded.push(c),
                    c => {
                        const HEX: &[u8; 16] = b"0123456789ABCDEF";
                        decoded.extend_from_slice(&[
                            b'%',
                            HEX[usize::from(c >> 4)],
                            HEX[usize::from(c & 15)],
                        ]);
                    }
                }
                i += 3;
            }
            c => {
                decoded.push(c);
                i += 1;
            }
        }
    }
    // Only ASCII went in.
    let decoded = String::from_utf8(decoded).map_err(|_| HttpError::PercentEscape)?;
    let mut out: Vec<&str> = Vec::new();
    let mut directory = false;
    for seg in decoded.split('/').skip(1) {
        check_dot_parameters(seg)?;
        directory = true;
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => {
                out.push(s);
                directory = false;
            }
        }
    }
    let mut n = String::with_capacity(target.len());
    for s in &out {
        n.push('/');
        n.push_str(s);
    }
    if directory || out.is_empty() {
        n.push('/');
    }
    if let Some(q) = query {
        n.push_str(q);
    }
    Ok(Cow::Owned(n))
}

/// A path segment like `..;x` or `.%3B`: some servers drop the parameters and see a dot
/// segment.
fn check_dot_parameters(seg: &str) -> Result<(), HttpError> {
    let base = seg.split(';').next().unwrap_or(seg);
    let base = match base.find("%3B").or_else(|| base.find("%3b")) {
        Some(i) => &base[..i],
        None => base,
    };
    if base.len() < seg.len() && (base == "." || base == "..") {
        return Err(HttpError::DotSegmentParameters);
    }
    Ok(())
}

/// Whether `path` needs no change: no escape, backslash, empty or dot segment.
fn is_canonical_path(path: &str) -> bool {
    let b = path.as_bytes();
    if b.iter().any(|&c| c == b'%' || c == b'\\') {
        return false;
    }
    let mut segs = path.split('/').skip(1).peekable();
    while let Some(seg) = segs.next() {
        let last = segs.peek().is_none();
        if seg == "."
            || seg == ".."
            || seg.starts_with(".;")
            || seg.starts_with("..;")
            || (seg.is_empty() && !last)
        {
            return false;
        }
    }
    true
}

/// Header access for rule matching, so a request need not be copied.
pub trait HeaderLookup {
    /// Calls `f` with the values of header `name` (lower case) until it returns `true`;
    /// whether it did.
    fn any_value(&self, name: &str, f: &mut dyn FnMut(&[u8]) -> bool) -> bool;
}

impl HeaderLookup for [(String, String)] {
    fn any_value(&self, name: &str, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(name) && f(v.as_bytes()))
    }
}

impl HeaderLookup for Vec<(String, String)> {
    fn any_value(&self, name: &str, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.as_slice().any_value(name, f)
    }
}

impl HeaderLookup for RequestHead<'_> {
    fn any_value(&self, name: &str, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(name) && f(v))
    }
}

/// A request as the rules see it, borrowed.
#[derive(Clone, Copy)]
pub struct RequestView<'a> {
    /// Method.
    pub method: &'a str,
    /// Normalised path with the query (see [`normalize_target`]).
    pub path: &'a str,
    /// Host (the `Host` value, or the authority of an absolute-form target).
    pub host: &'a str,
    /// Header fields.
    pub headers: &'a dyn HeaderLookup,
}

impl std::fmt::Debug for RequestView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestView")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl<'a> RequestView<'a> {
    /// A view of an owned request (its path taken as already normalised).
    pub fn of(req: &'a HttpRequest) -> RequestView<'a> {
        RequestView {
            method: &req.method,
            path: &req.path,
            host: &req.host,
            headers: &req.headers,
        }
    }
}

/// A change the proxy makes to a request before forwarding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderEdit {
    /// Add one line `name: value` (`ADD`).
    Append {
        /// Header name, lower case.
        name: String,
        /// Value.
        value: String,
    },
    /// Remove every line of the header (`DELETE`).
    Remove {
        /// Header name, lower case.
        name: String,
    },
    /// Replace every line of the header by `name: value` (`REPLACE`).
    Set {
        /// Header name, lower case.
        name: String,
        /// Value.
        value: String,
    },
}

/// A `headerMatches` entry with a mismatch action that did not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMismatch {
    /// Header name, lower case.
    pub name: String,
    /// The value the rule expects (`None`: presence only).
    pub expected: Option<String>,
    /// What was done about it.
    pub action: MismatchAction,
}

/// The decision on a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Whether a rule allows it.
    pub allowed: bool,
    /// Edits to apply before forwarding (from the deciding rule's mismatch actions).
    pub edits: Vec<HeaderEdit>,
    /// The deciding rule's header matches that did not match (every action, `LOG` ones
    /// included).
    pub mismatches: Vec<HeaderMismatch>,
}

impl Verdict {
    /// Allowed, unchanged.
    pub fn allow() -> Verdict {
        Verdict {
            allowed: true,
            ..Verdict::default()
        }
    }

    /// Denied.
    pub fn deny() -> Verdict {
        Verdict::default()
    }
}

/// Whether `req` has header `name` with `value` on some line (any value for `None`).
fn has_header(req: &RequestView<'_>, name: &str, value: Option<&str>) -> bool {
    req.headers
        .any_value(name, &mut |v| value.is_none_or(|want| v == want.as_bytes()))
}

/// Whether `rule` matches `req`: method, path, host, required headers. Header matches with
/// a mismatch action never fail a rule.
pub fn rule_matches(rule: &HttpRule, req: &RequestView<'_>) -> bool {
    rule.method.as_ref().is_none_or(|r| r.is_match(req.method))
        && rule.path.as_ref().is_none_or(|r| r.is_match(req.path))
        && rule.host.as_ref().is_none_or(|r| r.is_match(req.host))
        && rule
            .headers
            .iter()
            .all(|(name, value)| has_header(req, name, value.as_deref()))
}

/// The edits and mismatches of a matching rule's header matches.
fn apply_header_matches(rule: &HttpRule, req: &RequestView<'_>, v: &mut Verdict) {
    for m in &rule.header_matches {
        if has_header(req, &m.name, m.value.as_deref()) {
            continue;
        }
        let value = || m.value.clone().unwrap_or_default();
        match m.mismatch {
            MismatchAction::Log => {}
            MismatchAction::Add => v.edits.push(HeaderEdit::Append {
                name: m.name.clone(),
                value: value(),
            }),
            MismatchAction::Delete => {
                if has_header(req, &m.name, None) {
                    v.edits.push(HeaderEdit::Remove {
                        name: m.name.clone(),
                    });
                }
            }
            MismatchAction::Replace => v.edits.push(HeaderEdit::Set {
                name: m.name.clone(),
                value: value(),
            }),
        }
        v.mismatches.push(HeaderMismatch {
            name: m.name.clone(),
            expected: m.value.clone(),
            action: m.mismatch,
        });
    }
}

/// The decision on `req` under the L7 policies that apply to its connection: allowed when
/// one of them allows it; the first matching rule's header matches give the edits.
/// No policy: denied.
pub fn check(policies: &[&L7Policy], req: &RequestView<'_>) -> Verdict {
    for p in policies {
        match p {
            L7Policy::AllowAll => return Verdict::allow(),
            L7Policy::Rules(L7Rules::Http(rules)) => {
                if let Some(rule) = rules.iter().find(|r| rule_matches(r, req)) {
                    let mut v = Verdict::allow();
                    apply_header_matches(rule, req, &mut v);
                    return v;
                }
            }
            // Rules of another protocol allow no HTTP request.
            L7Policy::Rules(_) => {}
        }
    }
    Verdict::deny()
}

/// Applies `edits` to a header list (names compared without case).
pub fn apply_edits(headers: &mut Vec<(String, String)>, edits: &[HeaderEdit]) {
    for e in edits {
        match e {
            HeaderEdit::Append { name, value } => headers.push((name.clone(), value.clone())),
            HeaderEdit::Remove { name } => headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name)),
            HeaderEdit::Set { name, value } => {
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
                headers.push((name.clone(), value.clone()));
            }
        }
    }
}

/// The work of the `http_rules` fuzz target (and of the stable test that replays its seeds):
/// parse `data` as a request head, feed it to a [`FramingGuard`] whole and in pieces,
/// normalise the target and check it against a fixed rule set. Panics when an invariant
/// breaks: the guard's answer depends on how the bytes were split, the guard and the parser
/// disagree on a head, normalisation is not idempotent or leaves a dot segment, an empty
/// segment or an encoded slash, an allowed request breaks its rule.
#[doc(hidden)]
pub fn fuzz_request_bytes(data: &[u8]) {
    let limits = Limits {
        max_head_bytes: 2048,
        max_headers: 32,
    };
    let whole = guard_run(data, &limits, |_| data.len());
    // Split points taken from the data itself, so the fuzzer explores them.
    let mut k = 0usize;
    let split = guard_run(data, &limits, |_| {
        k = k.wrapping_add(1);
        1 + usize::from(data.get(k % data.len().max(1)).copied().unwrap_or(0) % 7)
    });
    assert_eq!(whole, split, "guard result depends on how the bytes arrive");
    let bytewise = guard_run(data, &limits, |_| 1);
    assert_eq!(
        whole, bytewise,
        "guard result depends on how the bytes arrive"
    );

    let head = match RequestHead::parse(data, &limits) {
        Ok(Some(h)) => h,
        Ok(None) => {
            assert!(
                whole.1.is_none() && whole.0 == 0,
                "guard released an incomplete head"
            );
            return;
        }
        Err(e) => {
            assert_eq!(whole.1.as_ref(), Some(&e), "guard and parser disagree");
            return;
        }
    };
    assert!(whole.0 >= head.len, "guard did not release a valid head");
    let Ok(path) = normalize_target(head.target) else {
        return;
    };
    let again = normalize_target(&path).expect("a normalised target normalises again");
    assert_eq!(again, path, "normalisation is not idempotent");
    if path != "*" {
        let p = path.split('?').next().unwrap_or("");
        assert!(p.starts_with('/'));
        for (i, seg) in p.split('/').skip(1).enumerate() {
            assert!(seg != "." && seg != "..", "dot segment left in {path:?}");
            let last = i + 2 == p.split('/').count();
            assert!(!seg.is_empty() || last, "empty segment left in {path:?}");
        }
        let upper = p.to_ascii_uppercase();
        assert!(!upper.contains("%2F") && !upper.contains("%5C") && !upper.contains("%00"));
    }
    let host = head
        .host
        .and_then(|h| std::str::from_utf8(h).ok())
        .unwrap_or("");
    let view = RequestView {
        method: head.method,
        path: &path,
        host,
        headers: &head,
    };
    let rules = fuzz_rules();
    let list: Vec<&L7Policy> = rules.iter().collect();
    let v = check(&list, &view);
    if v.allowed {
        let by_rule = rules.iter().any(|p| match p {
            L7Policy::Rules(L7Rules::Http(r)) => r.iter().any(|r| rule_matches(r, &view)),
            _ => true,
        });
        assert!(by_rule, "allowed without a matching rule");
        assert!(
            !path.starts_with("/admin") || head.method == "GET" && host.ends_with(".internal"),
            "a /admin request passed a rule that does not allow it: {path:?}"
        );
        let mut headers: Vec<(String, String)> = head
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.to_ascii_lowercase(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect();
        apply_edits(&mut headers, &v.edits);
        // After the edits, every ADD/REPLACE header match holds.
        for e in &v.edits {
            if let HeaderEdit::Set { name, value } | HeaderEdit::Append { name, value } = e {
                assert!(headers.any_value(name, &mut |x| x == value.as_bytes()));
            }
        }
    }
}

/// Feeds `data` to a guard in pieces of `next_len` bytes; returns bytes released and the
/// error.
fn guard_run(
    data: &[u8],
    limits: &Limits,
    mut next_len: impl FnMut(usize) -> usize,
) -> (usize, Option<HttpError>) {
    let mut g = FramingGuard::new(*limits);
    let (mut fed, mut released) = (0usize, 0usize);
    while fed < data.len() {
        fed = (fed + next_len(fed).max(1)).min(data.len());
        loop {
            match g.advance(&data[released..fed]) {
                Ok(0) => break,
                Ok(n) => released += n,
                Err(e) => return (released, Some(e)),
            }
        }
    }
    (released, None)
}

fn fuzz_rules() -> &'static [L7Policy] {
    use cilium_policy::l7::{AnchoredRegex, HeaderMatch};
    use std::sync::OnceLock;
    static RULES: OnceLock<Vec<L7Policy>> = OnceLock::new();
    RULES.get_or_init(|| {
        let re = |s: &str| AnchoredRegex::new(s).ok();
        let hm = |name: &str, value: &str, mismatch| HeaderMatch {
            name: name.into(),
            value: Some(value.into()),
            mismatch,
        };
        vec![L7Policy::Rules(L7Rules::Http(vec![
            HttpRule {
                method: re("GET|HEAD"),
                path: re("/public/.*"),
                header_matches: vec![
                    hm("x-token", "t", MismatchAction::Replace),
                    hm("x-log", "l", MismatchAction::Log),
                    hm("x-del", "d", MismatchAction::Delete),
                    hm("x-add", "a", MismatchAction::Add),
                ],
                ..HttpRule::default()
            },
            HttpRule {
                method: re("POST"),
                path: re("/api/v[0-9]+/.*"),
                headers: vec![("content-type".into(), Some("application/json".into()))],
                ..HttpRule::default()
            },
            HttpRule {
                method: re("GET"),
                path: re("/admin(/.*)?"),
                host: re(".*\\.internal"),
                ..HttpRule::default()
            },
        ]))]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cilium_policy::l7::{AnchoredRegex, HeaderMatch};

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn parses_a_strict_head() {
        let raw =
            b"\r\nPOST /a?b HTTP/1.1\r\nHost: x:80\r\nContent-Length: 3\r\nX-A:  v \t\r\n\r\nabc";
        let h = RequestHead::parse(raw, &limits()).unwrap().unwrap();
        assert_eq!(
            (h.method, h.target, h.version),
            ("POST", "/a?b", Version::Http11)
        );
        assert_eq!(h.framing, BodyFraming::Length(3));
        assert_eq!(h.host, Some(&b"x:80"[..]));
        assert_eq!(h.values("x-a").collect::<Vec<_>>(), vec![&b"v"[..]]);
        assert_eq!(h.len, raw.len() - 3);
        assert_eq!(RequestHead::parse(&raw[..20], &limits()), Ok(None));
    }

    #[test]
    fn refuses_what_could_be_read_two_ways() {
        let cases: &[(&[u8], HttpError)] = &[
            (b"GET / HTTP/1.1\nHost: x\n\n", HttpError::BareLineEnd),
            (b"GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", HttpError::HeaderField { line: 3 }),
            (b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", HttpError::RequestLine),
            (b"GET / HTTP/1.1 \r\nHost: x\r\n\r\n", HttpError::RequestLine),
            (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", HttpError::Version { version: "HTTP/2.0".into() }),
            (b"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", HttpError::ObsFold { line: 4 }),
            (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", HttpError::HeaderField { line: 2 }),
            (b"GET / HTTP/1.1\r\nHost: x\r\nX: \0\r\n\r\n", HttpError::HeaderField { line: 3 }),
            (
                b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\n",
                HttpError::DuplicateContentLength,
            ),
            (
                b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 1\r\n\r\n",
                HttpError::BadContentLength { value: "1, 1".into() },
            ),
            (
                b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\n",
                HttpError::BadContentLength { value: "+1".into() },
            ),
            (
                b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
                HttpError::BadContentLength { value: "99999999999999999999".into() },
            ),
            (
                b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                HttpError::ContentLengthAndTransferEncoding,
            ),
            (
                b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                HttpError::TransferEncoding { value: "gzip, chunked".into() },
            ),
            (
                b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                HttpError::DuplicateTransferEncoding,
            ),
            (
                b"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
                HttpError::TransferEncodingHttp10,
            ),
            (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HttpError::DuplicateHost),
            (b"GET / HTTP/1.1\r\nX: y\r\n\r\n", HttpError::MissingHost),
            (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", HttpError::BadHost { value: "a b".into() }),
        ];
        for (raw, want) in cases {
            let got = RequestHead::parse(raw, &limits());
            assert_eq!(
                got.as_ref().err(),
                Some(want),
                "{}",
                String::from_utf8_lossy(raw)
            );
            assert_eq!(
                FramingGuard::new(limits()).advance(raw).err().as_ref(),
                Some(want)
            );
        }
        // HTTP/1.0 needs no Host.
        assert!(
            RequestHead::parse(b"GET / HTTP/1.0\r\n\r\n", &limits())
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn bounds_the_head() {
        let l = Limits {
            max_head_bytes: 64,
            max_headers: 2,
        };
        let long = [b"GET / HTTP/1.1\r\nHost: x\r\nX: ".as_slice(), &[b'a'; 64]].concat();
        assert_eq!(
            RequestHead::parse(&long, &l),
            Err(HttpError::HeadTooLarge { limit: 64 })
        );
        let many = b"GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n";
        assert_eq!(
            RequestHead::parse(many, &l),
            Err(HttpError::TooManyHeaders { limit: 2 })
        );
        assert_eq!(HttpError::TooManyHeaders { limit: 2 }.status(), 431);
    }

    #[test]
    fn guard_walks_bodies_and_chunks() {
        let stream = b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
            5;ext=1\r\nhello\r\n10 \r\n0123456789abcdef\r\n0\r\nX-Trailer: t\r\n\r\n\
            GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut g = FramingGuard::new(limits());
        assert_eq!(g.advance(stream), Ok(stream.len()));
        assert_eq!(g.heads(), 2);
        // Byte by byte, the same.
        let mut g = FramingGuard::new(limits());
        let mut released = 0;
        for end in 1..=stream.len() {
            released += g.advance(&stream[released..end]).unwrap();
        }
        assert_eq!(released, stream.len());
        // A head is not released before it is complete.
        let mut g = FramingGuard::new(limits());
        assert_eq!(g.advance(b"GET / HTTP/1.1\r\nHost: x\r\n"), Ok(0));

        let bad_chunks: &[&[u8]] = &[
            b"zz\r\n",
            b"-1\r\n",
            b"0x5\r\n",
            b"+5\r\n",
            b" 5\r\n",
            b"11111111111111111\r\n",
            b"5\r\nhelloX\r\n",
            b"5\nhello\r\n",
            b"5\r\nhello\r\n0\r\nX : y\r\n\r\n",
            b"5\r\nhello\r\n0\r\n y\r\n\r\n",
        ];
        for body in bad_chunks {
            let raw = [
                b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".as_slice(),
                body,
            ]
            .concat();
            let mut g = FramingGuard::new(limits());
            let head = g.advance(&raw).unwrap();
            assert!(head > 0 && head < raw.len());
            let r = g.advance(&raw[head..]);
            assert!(r.is_err(), "{:?} accepted", String::from_utf8_lossy(body));
            let (_, at) = g.failure().unwrap();
            assert_eq!(at, GuardPosition::InBody);
        }
    }

    #[test]
    fn normalises_paths() {
        let ok = [
            ("/public/../admin", "/admin"),
            ("/public/%2e%2e/admin", "/admin"),
            ("/public/%2E%2e/admin", "/admin"),
            ("/public/.%2e/admin", "/admin"),
            ("/public/%2e%2e", "/"),
            ("//admin", "/admin"),
            ("/public//../admin", "/admin"),
            ("/../../x", "/x"),
            ("/a/./b/", "/a/b/"),
            ("/a/.", "/a/"),
            ("/a/b/..", "/a/"),
            ("/a//", "/a/"),
            ("/%61%7E", "/a~"),
            ("/a%3a%20b", "/a%3A%20b"),
            ("/a%252e%252e/b", "/a%252e%252e/b"),
            ("/x?q=/../y//z", "/x?q=/../y//z"),
            ("/", "/"),
            ("*", "*"),
            ("/plain/path?x", "/plain/path?x"),
        ];
        for (input, want) in ok {
            assert_eq!(normalize_target(input).as_deref(), Ok(want), "{input}");
        }
        assert!(matches!(
            normalize_target("/plain/x").unwrap(),
            Cow::Borrowed(_)
        ));
        let bad = [
            ("/public/%2e%2e%2fadmin", HttpError::EncodedSlash),
            ("/public/..%2Fadmin", HttpError::EncodedSlash),
            ("/public/..%5cadmin", HttpError::EncodedBackslash),
            ("/public/..\\admin", HttpError::Backslash),
            ("/a%00", HttpError::EncodedNul),
            ("/a%zz", HttpError::PercentEscape),
            ("/a%2", HttpError::PercentEscape),
            ("/a#f", HttpError::Fragment),
            ("/public/..;/admin", HttpError::DotSegmentParameters),
            ("/public/.%3b/admin", HttpError::DotSegmentParameters),
            ("admin", HttpError::TargetForm),
            ("/a b", HttpError::TargetByte { byte: b' ' }),
        ];
        for (input, want) in bad {
            assert_eq!(normalize_target(input), Err(want), "{input}");
        }
    }

    struct H(Vec<(String, String)>);

    fn view<'a>(m: &'a str, p: &'a str, h: &'a H) -> RequestView<'a> {
        RequestView {
            method: m,
            path: p,
            host: "svc",
            headers: &h.0,
        }
    }

    #[test]
    fn header_matches_edit_only_on_mismatch() {
        let hm = |n: &str, v: Option<&str>, mismatch| HeaderMatch {
            name: n.into(),
            value: v.map(Into::into),
            mismatch,
        };
        let rule = HttpRule {
            path: AnchoredRegex::new("/api/.*").ok(),
            headers: vec![("x-req".into(), None)],
            header_matches: vec![
                hm("x-log", Some("1"), MismatchAction::Log),
                hm("x-add", Some("2"), MismatchAction::Add),
                hm("x-del", Some("3"), MismatchAction::Delete),
                hm("x-rep", Some("4"), MismatchAction::Replace),
                hm("x-present", None, MismatchAction::Replace),
            ],
            ..HttpRule::default()
        };
        let policy = L7Policy::Rules(L7Rules::Http(vec![rule]));
        let h = |pairs: &[(&str, &str)]| {
            H(pairs
                .iter()
                .map(|(a, b)| ((*a).into(), (*b).into()))
                .collect())
        };
        // Required header missing: denied, no edits.
        let none = h(&[]);
        assert_eq!(
            check(&[&policy], &view("GET", "/api/x", &none)),
            Verdict::deny()
        );
        // Everything mismatching.
        let req = h(&[
            ("x-req", ""),
            ("x-log", "0"),
            ("x-add", "0"),
            ("x-del", "0"),
            ("x-rep", "0"),
            ("x-rep", "5"),
        ]);
        let v = check(&[&policy], &view("GET", "/api/x", &req));
        assert!(v.allowed);
        let s = |x: &str| x.to_owned();
        assert_eq!(
            v.edits,
            vec![
                HeaderEdit::Append {
                    name: s("x-add"),
                    value: s("2")
                },
                HeaderEdit::Remove { name: s("x-del") },
                HeaderEdit::Set {
                    name: s("x-rep"),
                    value: s("4")
                },
                HeaderEdit::Set {
                    name: s("x-present"),
                    value: s("")
                },
            ]
        );
        assert_eq!(v.mismatches.len(), 5);
        assert_eq!(v.mismatches[0].action, MismatchAction::Log);
        let mut edited = req.0.clone();
        apply_edits(&mut edited, &v.edits);
        let want = h(&[
            ("x-req", ""),
            ("x-log", "0"),
            ("x-add", "0"),
            ("x-add", "2"),
            ("x-rep", "4"),
            ("x-present", ""),
        ]);
        assert_eq!(edited, want.0);
        // Everything matching: no edits, nothing reported.
        let fine = h(&[
            ("x-req", "y"),
            ("x-log", "1"),
            ("x-add", "9"),
            ("x-add", "2"),
            ("x-del", "3"),
            ("x-rep", "4"),
            ("x-present", "p"),
        ]);
        assert_eq!(
            check(&[&policy], &view("GET", "/api/x", &fine)),
            Verdict::allow()
        );
        // A missing header is not deleted again.
        let v = check(&[&policy], &view("GET", "/api/x", &h(&[("x-req", "")])));
        assert!(!v.edits.contains(&HeaderEdit::Remove { name: s("x-del") }));
    }

    #[test]
    fn any_policy_and_first_rule_decide() {
        let rule = |m: &str, p: &str, add: &str| HttpRule {
            method: AnchoredRegex::new(m).ok(),
            path: AnchoredRegex::new(p).ok(),
            header_matches: vec![HeaderMatch {
                name: "x-rule".into(),
                value: Some(add.into()),
                mismatch: MismatchAction::Add,
            }],
            ..HttpRule::default()
        };
        let a = L7Policy::Rules(L7Rules::Http(vec![
            rule("GET", "/a.*", "1"),
            rule("GET", "/.*", "2"),
        ]));
        let kafka = L7Policy::Rules(L7Rules::Kafka(vec![]));
        let h = H(vec![]);
        let v = check(&[&kafka, &a], &view("GET", "/ab", &h));
        assert!(v.allowed);
        assert_eq!(
            v.edits,
            vec![HeaderEdit::Append {
                name: "x-rule".into(),
                value: "1".into()
            }]
        );
        let v = check(&[&a], &view("GET", "/b", &h));
        assert_eq!(
            v.edits,
            vec![HeaderEdit::Append {
                name: "x-rule".into(),
                value: "2".into()
            }]
        );
        assert!(!check(&[&a], &view("POST", "/b", &h)).allowed);
        assert!(!check(&[&kafka], &view("GET", "/b", &h)).allowed);
        assert!(!check(&[], &view("GET", "/b", &h)).allowed);
        assert_eq!(
            check(&[&kafka, &L7Policy::AllowAll], &view("PUT", "/z", &h)),
            Verdict::allow()
        );
    }

    #[test]
    fn fuzz_function_survives_simple_inputs() {
        fuzz_request_bytes(b"GET /public/%2e%2e/admin HTTP/1.1\r\nHost: a\r\n\r\n");
        fuzz_request_bytes(b"GET /admin HTTP/1.1\r\nHost: a.internal\r\n\r\n");
        fuzz_request_bytes(b"");
        fuzz_request_bytes(b"\r\n\r\n");
    }
}
