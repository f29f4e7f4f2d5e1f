//! Kafka requests as the L7 policy sees them: a checked parser of request frames (size prefix,
//! request header v0/v1/v2, and the body of the requests whose topics or groups matter), the
//! conversion to [`cilium_policy::l7::KafkaRequest`] for `KafkaRule::matches`, and the refusal
//! a denied request gets: that API's response at the request's version carrying the
//! authorization error, so a real client sees a clean error and the connection stays usable.
//!
//! Pure: no I/O, no clock. The proxy that uses it is [`crate::kafka_proxy`].
//!
//! # Why a walker of our own
//!
//! Every body is read by the walker in this module, field by field, for every version Kafka
//! defines for it (up to Produce 13, Fetch 18, ListOffsets 11, Metadata 13, OffsetCommit 10,
//! OffsetFetch 10, ...). `kafka-protocol` is not used to decode requests from the network: its
//! array decoder reserves `count * size_of::<T>()` from the wire's element count before reading
//! any element, so a 20-byte frame announcing 2^31 topics makes the allocator abort the
//! process, and its 0.18 schemas drop versions old clients still send (Produce 0-2, Fetch 0-3,
//! ...) and lack the newest (ListOffsets 11, OffsetCommit 10, OffsetFetch 10). The walker
//! checks each length against the bytes left in the frame before it trusts it, so an array
//! never claims more elements than the frame can hold, and every error names the field and
//! the byte offset in the frame. The tests check that the walker and `kafka-protocol` agree on
//! every version `kafka-protocol` decodes.
//!
//! `kafka-protocol` builds the refusals (its response types at every version it knows, with
//! the flexible encoding and response header versions); the versions it dropped are encoded
//! here by hand ([`Refusal`]).

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use cilium_policy::l7::{KAFKA_API_KEYS, KafkaRequest};
use kafka_protocol::messages::{self as km, ApiKey};
use kafka_protocol::protocol::{Encodable, StrBytes};

/// Kafka's error code for a request on a topic the client may not use.
pub const TOPIC_AUTHORIZATION_FAILED: i16 = 29;
/// Kafka's error code for a request on a group the client may not use.
pub const GROUP_AUTHORIZATION_FAILED: i16 = 30;
/// Kafka's error code for a cluster-level request the client may not make.
pub const CLUSTER_AUTHORIZATION_FAILED: i16 = 31;
/// Kafka's error code for a transactional id the client may not use.
pub const TRANSACTIONAL_ID_AUTHORIZATION_FAILED: i16 = 53;
/// Kafka's error code for a request the broker could not parse (used in error records).
pub const INVALID_REQUEST: i16 = 42;

/// The default bound on a request frame (size prefix included): 16 MiB, above the clients'
/// default `max.request.size` (1 MiB) with room for batching.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 16 << 20;

/// The message in the refusals where the response has a field for one.
pub const REFUSAL_MESSAGE: &str = "denied by network policy";

/// Why a frame was refused. Offsets count from the first byte of the frame's size prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KafkaError {
    /// The size prefix is negative, too small for a header, or above the bound.
    #[error("frame size {size} at byte 0 is outside 8..={max}")]
    FrameSize {
        /// The size prefix.
        size: i64,
        /// The bound (size prefix excluded).
        max: usize,
    },
    /// The buffer is not exactly one frame.
    #[error("frame of {size} bytes announced at byte 0, {got} bytes given")]
    FrameLength {
        /// The size prefix.
        size: usize,
        /// Bytes after the prefix.
        got: usize,
    },
    /// A field runs past the end of the frame.
    #[error("{field} at byte {offset}: needs {needed} bytes, {remaining} left in the frame")]
    Truncated {
        /// The field.
        field: &'static str,
        /// Where it starts.
        offset: usize,
        /// Bytes it needs.
        needed: usize,
        /// Bytes left.
        remaining: usize,
    },
    /// A length or count that is negative (other than null) or larger than the rest of the
    /// frame.
    #[error("{field} at byte {offset}: length {len} does not fit the {remaining} bytes left")]
    BadLength {
        /// The field.
        field: &'static str,
        /// Where the length starts.
        offset: usize,
        /// The length as sent.
        len: i64,
        /// Bytes left after the length.
        remaining: usize,
    },
    /// A variable-length integer longer than 5 bytes.
    #[error("{field} at byte {offset}: varint longer than 5 bytes")]
    BadVarint {
        /// The field.
        field: &'static str,
        /// Where it starts.
        offset: usize,
    },
    /// A string that is not UTF-8.
    #[error("{field} at byte {offset}: not UTF-8")]
    BadUtf8 {
        /// The field.
        field: &'static str,
        /// Where the string's bytes start.
        offset: usize,
    },
    /// A null where the protocol has none.
    #[error("{field} at byte {offset}: null, which this version does not allow")]
    UnexpectedNull {
        /// The field.
        field: &'static str,
        /// Where the length starts.
        offset: usize,
    },
    /// Bytes after the last field of the request.
    #[error("{count} bytes after the end of the request at byte {offset}")]
    TrailingBytes {
        /// Where the extra bytes start.
        offset: usize,
        /// How many.
        count: usize,
    },
}

/// Reads fields of one frame; every read checks the bytes left and names the field.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf[0]` in the frame.
    base: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], base: usize) -> Reader<'a> {
        Reader { buf, pos: 0, base }
    }

    fn offset(&self) -> usize {
        self.base + self.pos
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], KafkaError> {
        if n > self.remaining() {
            return Err(KafkaError::Truncated {
                field,
                offset: self.offset(),
                needed: n,
                remaining: self.remaining(),
            });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], KafkaError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    fn i8(&mut self, field: &'static str) -> Result<i8, KafkaError> {
        Ok(i8::from_be_bytes(self.array(field)?))
    }

    fn i16(&mut self, field: &'static str) -> Result<i16, KafkaError> {
        Ok(i16::from_be_bytes(self.array(field)?))
    }

    fn i32(&mut self, field: &'static str) -> Result<i32, KafkaError> {
        Ok(i32::from_be_bytes(self.array(field)?))
    }

    fn skip(&mut self, n: usize, field: &'static str) -> Result<(), KafkaError> {
        self.take(n, field).map(|_| ())
    }

    fn uvarint(&mut self, field: &'static str) -> Result<u32, KafkaError> {
        let start = self.offset();
        let mut value: u32 = 0;
        for i in 0..5 {
            let [b] = self.array::<1>(field)?;
            // The fifth byte may only carry the top 4 bits.
            if i == 4 && b > 0x0F {
                return Err(KafkaError::BadVarint {
                    field,
                    offset: start,
                });
            }
            value |= u32::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(KafkaError::BadVarint {
            field,
            offset: start,
        })
    }

    /// A length: `INT16`/`INT32` (`-1` null) or compact `UNSIGNED_VARINT` (`0` null, else
    /// `n + 1`). The length must fit the bytes left, with at least `unit` bytes per element.
    fn length(
        &mut self,
        field: &'static str,
        flexible: bool,
        wide: bool,
        unit: usize,
    ) -> Result<Option<usize>, KafkaError> {
        let at = self.offset();
        let raw: i64 = if flexible {
            i64::from(self.uvarint(field)?) - 1
        } else if wide {
            i64::from(self.i32(field)?)
        } else {
            i64::from(self.i16(field)?)
        };
        if raw == -1 {
            return Ok(None);
        }
        let remaining = self.remaining();
        match usize::try_from(raw) {
            Ok(n) if n.saturating_mul(unit) <= remaining => Ok(Some(n)),
            _ => Err(KafkaError::BadLength {
                field,
                offset: at,
                len: raw,
                remaining,
            }),
        }
    }

    fn nullable_str(
        &mut self,
        field: &'static str,
        flexible: bool,
    ) -> Result<Option<&'a str>, KafkaError> {
        let Some(n) = self.length(field, flexible, false, 1)? else {
            return Ok(None);
        };
        let at = self.offset();
        let bytes = self.take(n, field)?;
        std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|_| KafkaError::BadUtf8 { field, offset: at })
    }

    fn str(&mut self, field: &'static str, flexible: bool) -> Result<&'a str, KafkaError> {
        let at = self.offset();
        self.nullable_str(field, flexible)?
            .ok_or(KafkaError::UnexpectedNull { field, offset: at })
    }

    /// A string whose content does not matter here: length checked, bytes skipped.
    fn skip_str(&mut self, field: &'static str, flexible: bool) -> Result<(), KafkaError> {
        if let Some(n) = self.length(field, flexible, false, 1)? {
            self.skip(n, field)?;
        }
        Ok(())
    }

    /// `BYTES`/`RECORDS` (nullable; `INT32` or compact length), skipped.
    fn skip_bytes(&mut self, field: &'static str, flexible: bool) -> Result<(), KafkaError> {
        if let Some(n) = self.length(field, flexible, true, 1)? {
            self.skip(n, field)?;
        }
        Ok(())
    }

    /// An array's element count (`None`: null).
    fn array_len(
        &mut self,
        field: &'static str,
        flexible: bool,
    ) -> Result<Option<usize>, KafkaError> {
        self.length(field, flexible, true, 1)
    }

    /// A non-nullable array's element count.
    fn count(&mut self, field: &'static str, flexible: bool) -> Result<usize, KafkaError> {
        let at = self.offset();
        self.array_len(field, flexible)?
            .ok_or(KafkaError::UnexpectedNull { field, offset: at })
    }

    /// An array of `INT32` (partition indexes).
    fn i32_array(&mut self, field: &'static str, flexible: bool) -> Result<Vec<i32>, KafkaError> {
        let n = self.count(field, flexible)?;
        let mut out = Vec::with_capacity(n.min(self.remaining() / 4));
        for _ in 0..n {
            out.push(self.i32(field)?);
        }
        Ok(out)
    }

    /// The tagged fields that end every structure of a flexible version (skipped: none of
    /// them names a topic or a group).
    fn tagged_fields(&mut self, field: &'static str, flexible: bool) -> Result<(), KafkaError> {
        if !flexible {
            return Ok(());
        }
        let at = self.offset();
        let n = self.uvarint(field)? as usize;
        if n > self.remaining() {
            return Err(KafkaError::BadLength {
                field,
                offset: at,
                len: n as i64,
                remaining: self.remaining(),
            });
        }
        for _ in 0..n {
            self.uvarint(field)?;
            let at = self.offset();
            let size = self.uvarint(field)? as usize;
            if size > self.remaining() {
                return Err(KafkaError::BadLength {
                    field,
                    offset: at,
                    len: size as i64,
                    remaining: self.remaining(),
                });
            }
            self.skip(size, field)?;
        }
        Ok(())
    }

    fn uuid(&mut self, field: &'static str) -> Result<[u8; 16], KafkaError> {
        self.array(field)
    }

    fn finish(&self) -> Result<(), KafkaError> {
        if self.remaining() != 0 {
            return Err(KafkaError::TrailingBytes {
                offset: self.offset(),
                count: self.remaining(),
            });
        }
        Ok(())
    }
}

/// The name of an API key as Cilium's rules and Hubble's records spell it (`produce`,
/// `fetch`, ...), or the number for keys without one.
pub fn api_key_name(api_key: i16) -> Cow<'static, str> {
    KAFKA_API_KEYS
        .iter()
        .find(|(_, k)| *k == api_key)
        .map_or_else(
            || Cow::Owned(api_key.to_string()),
            |(n, _)| Cow::Borrowed(*n),
        )
}

/// The request header version of `api_key` at `api_version`: 0 (ControlledShutdown v0 only),
/// 1, or 2 (flexible versions, with tagged fields). `None` for an API key unknown here.
pub fn request_header_version(api_key: i16, api_version: i16) -> Option<i16> {
    ApiKey::try_from(api_key)
        .ok()
        .map(|k| k.request_header_version(api_version))
}

/// The response header version of `api_key` at `api_version`: 1 for flexible versions, else 0
/// (ApiVersions always answers with 0 so an old client can read it).
pub fn response_header_version(api_key: i16, api_version: i16) -> Option<i16> {
    ApiKey::try_from(api_key)
        .ok()
        .map(|k| k.response_header_version(api_version))
}

/// The total length (prefix included) of the frame that starts `buf`, once its size prefix is
/// there (`None` before that).
///
/// # Errors
///
/// [`KafkaError::FrameSize`] for a size below 8 (no room for the header's fixed fields) or
/// above `max_frame_bytes - 4`.
pub fn frame_len(buf: &[u8], max_frame_bytes: usize) -> Result<Option<usize>, KafkaError> {
    let Some(prefix) = buf.get(..4) else {
        return Ok(None);
    };
    let size = i32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
    let max = max_frame_bytes.saturating_sub(4);
    match usize::try_from(size) {
        Ok(n) if (8..=max).contains(&n) => Ok(Some(n + 4)),
        _ => Err(KafkaError::FrameSize {
            size: i64::from(size),
            max,
        }),
    }
}

/// The request header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHeader {
    /// API key.
    pub api_key: i16,
    /// API version.
    pub api_version: i16,
    /// Correlation id (echoed by the response).
    pub correlation_id: i32,
    /// Client id (`None`: null, or header v0).
    pub client_id: Option<String>,
    /// Header version (0, 1 or 2; `None` for an API key unknown here, read as 1).
    pub header_version: Option<i16>,
}

/// A topic as a request names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TopicRef {
    /// By name.
    Name(String),
    /// By topic id (Produce 13, Fetch 13+, OffsetCommit 10, OffsetFetch 10, Metadata 10+,
    /// DeleteTopics 6): rules cannot name it.
    Id([u8; 16]),
}

impl fmt::Display for TopicRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TopicRef::Name(n) => f.write_str(n),
            TopicRef::Id(id) => {
                for b in id {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }
    }
}

/// A topic and the partitions a request touches in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicPartitions {
    /// The topic.
    pub topic: TopicRef,
    /// Partition indexes, in request order.
    pub partitions: Vec<i32>,
}

/// A group of an OffsetFetch request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupTopics {
    /// Group id.
    pub group_id: String,
    /// Topics asked for; `None`: all the group's topics.
    pub topics: Option<Vec<TopicPartitions>>,
}

/// The body of a request, as far as policy and refusals need it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestBody {
    /// Produce (0).
    Produce {
        /// Transactional id (v3+).
        transactional_id: Option<String>,
        /// Acks: 0 means the client expects no response.
        acks: i16,
        /// Topics and partitions written.
        topics: Vec<TopicPartitions>,
    },
    /// Fetch (1).
    Fetch {
        /// Topics and partitions read.
        topics: Vec<TopicPartitions>,
        /// Topics removed from the fetch session (v7+); not read, so not policy topics.
        forgotten: Vec<TopicPartitions>,
    },
    /// ListOffsets (2).
    ListOffsets {
        /// Topics and partitions.
        topics: Vec<TopicPartitions>,
    },
    /// Metadata (3).
    Metadata {
        /// Topics asked for; `None`: all topics (null, or an empty list at v0).
        topics: Option<Vec<TopicRef>>,
    },
    /// OffsetCommit (8).
    OffsetCommit {
        /// Group id.
        group_id: String,
        /// Topics and partitions committed.
        topics: Vec<TopicPartitions>,
    },
    /// OffsetFetch (9); one group below v8.
    OffsetFetch {
        /// Groups and their topics.
        groups: Vec<GroupTopics>,
    },
    /// FindCoordinator (10).
    FindCoordinator {
        /// 0: group, 1: transaction.
        key_type: i8,
        /// Keys (one below v4).
        keys: Vec<String>,
    },
    /// JoinGroup (11), Heartbeat (12), LeaveGroup (13) or SyncGroup (14).
    Group {
        /// Group id.
        group_id: String,
    },
    /// ApiVersions (18).
    ApiVersions,
    /// CreateTopics (19).
    CreateTopics {
        /// Topic names.
        topics: Vec<String>,
    },
    /// DeleteTopics (20).
    DeleteTopics {
        /// Topics.
        topics: Vec<TopicRef>,
    },
    /// DeleteRecords (21), OffsetForLeaderEpoch (23), AddPartitionsToTxn (24) or
    /// TxnOffsetCommit (28): topics for the policy; refused by closing the connection.
    Topics {
        /// Topics and partitions.
        topics: Vec<TopicPartitions>,
    },
    /// An API (or a version) whose body this parser does not read: no topics.
    NotParsed,
}

/// A request frame, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaRequestFrame {
    /// The header.
    pub header: RequestHeader,
    /// The body.
    pub body: RequestBody,
}

/// Parses the header of a frame (`frame` starts with the size prefix; only the header's
/// bytes need be present), with the offset where the body starts.
///
/// # Errors
///
/// [`KafkaError`] naming the header field.
pub fn parse_header(frame: &[u8]) -> Result<(RequestHeader, usize), KafkaError> {
    let mut r = Reader::new(frame.get(4..).unwrap_or(&[]), 4);
    if frame.len() < 4 {
        return Err(KafkaError::Truncated {
            field: "size",
            offset: 0,
            needed: 4,
            remaining: frame.len(),
        });
    }
    let api_key = r.i16("request_api_key")?;
    let api_version = r.i16("request_api_version")?;
    let correlation_id = r.i32("correlation_id")?;
    let header_version = request_header_version(api_key, api_version);
    let client_id = if header_version == Some(0) {
        None
    } else {
        // The client id keeps its INT16 length even in header v2.
        r.nullable_str("client_id", false)?.map(str::to_owned)
    };
    r.tagged_fields("header tagged fields", header_version == Some(2))?;
    Ok((
        RequestHeader {
            api_key,
            api_version,
            correlation_id,
            client_id,
            header_version,
        },
        r.offset(),
    ))
}

/// Parses one whole frame (size prefix included).
///
/// # Errors
///
/// [`KafkaError`] naming the field and byte offset; never panics.
pub fn parse_request(
    frame: &[u8],
    max_frame_bytes: usize,
) -> Result<KafkaRequestFrame, KafkaError> {
    let Some(len) = frame_len(frame, max_frame_bytes)? else {
        return Err(KafkaError::Truncated {
            field: "size",
            offset: 0,
            needed: 4,
            remaining: frame.len(),
        });
    };
    if len != frame.len() {
        return Err(KafkaError::FrameLength {
            size: len - 4,
            got: frame.len() - 4,
        });
    }
    let (header, body_at) = parse_header(frame)?;
    let mut r = Reader::new(&frame[body_at..], body_at);
    let flexible = header.header_version == Some(2);
    let body = parse_body(&mut r, header.api_key, header.api_version, flexible)?;
    if body != RequestBody::NotParsed {
        r.finish()?;
    }
    Ok(KafkaRequestFrame { header, body })
}

fn topic_ref(
    r: &mut Reader<'_>,
    by_id: bool,
    field: &'static str,
    flexible: bool,
) -> Result<TopicRef, KafkaError> {
    Ok(if by_id {
        TopicRef::Id(r.uuid(field)?)
    } else {
        TopicRef::Name(r.str(field, flexible)?.to_owned())
    })
}

/// Reads `count` elements with `each`.
fn elements<'a, T>(
    r: &mut Reader<'a>,
    count: usize,
    mut each: impl FnMut(&mut Reader<'a>) -> Result<T, KafkaError>,
) -> Result<Vec<T>, KafkaError> {
    // `count` was checked against the bytes left (every element takes at least one byte).
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        out.push(each(r)?);
    }
    Ok(out)
}

fn parse_body(
    r: &mut Reader<'_>,
    api_key: i16,
    v: i16,
    f: bool,
) -> Result<RequestBody, KafkaError> {
    Ok(match (api_key, v) {
        (0, 0..=13) => produce(r, v, f)?,
        (1, 0..=18) => fetch(r, v, f)?,
        (2, 0..=11) => list_offsets(r, v, f)?,
        (3, 0..=13) => metadata(r, v, f)?,
        (8, 0..=10) => offset_commit(r, v, f)?,
        (9, 0..=10) => offset_fetch(r, v, f)?,
        (10, 0..=6) => find_coordinator(r, v, f)?,
        (11, 0..=9) => join_group(r, v, f)?,
        (12, 0..=4) => heartbeat(r, v, f)?,
        (13, 0..=5) => leave_group(r, v, f)?,
        (14, 0..=5) => sync_group(r, v, f)?,
        (18, 0..=4) => {
            if v >= 3 {
                r.skip_str("client_software_name", f)?;
                r.skip_str("client_software_version", f)?;
            }
            r.tagged_fields("tagged fields", f)?;
            RequestBody::ApiVersions
        }
        (19, 0..=7) => create_topics(r, v, f)?,
        (20, 0..=6) => delete_topics(r, v, f)?,
        (21, 0..=2) => delete_records(r, f)?,
        (23, 0..=4) => offset_for_leader_epoch(r, v, f)?,
        (24, 0..=5) => add_partitions_to_txn(r, v, f)?,
        (28, 0..=5) => txn_offset_commit(r, v, f)?,
        _ => RequestBody::NotParsed,
    })
}

fn produce(r: &mut Reader<'_>, v: i16, f: bool) -> Result<RequestBody, KafkaError> {
    let transactional_id = if v >= 3 {
        r.nullable_str("transactional_id", f)?.map(str::to_owned)
    } else {
        None
    };
    let acks = r.i16("acks")?;
    r.skip(4, "timeout_ms")?;
    let n = r.count("topic_data", f)?;
    let topics = elements(r, n, |r| {
        let topic = topic_ref(r, v >= 13, "topic_data[].name", f)?;
        let n = r.count("topic_data[].partition_data", f)?;
        let partitions = elements(r, n, |r| {
            let index = r.i32("partition_data[].index")?;
            r.skip_bytes("partition_data[].records", f)?;
            r.tagged_fields("partition_data[] tagged fields", f)?;
            Ok(index)
        })?;
        r.tagged_fields("topic_data[] tagged fields", f)?;
        Ok(TopicPartitions { topic, partitions })
    })?;
    r.tagged_fields("tagged fields", f)?;
    Ok(RequestBody::Produce {
        transactional_id,
        acks,
        topics,
    })
}

fn fetch(r: &mut Reader<'_>, v: i16, f: bool) -> Result<RequestBody, KafkaError> {
    if v <= 14 {
        r.skip(4, "replica_id")?;
    }
    r.skip(8, "max_wait_ms, min_bytes")?;
    if v >= 3 {
        r.skip(4, "max_bytes")?;
    }
    if v >= 4 {
        r.skip(1, "isolation_level")?;
    }
    if v >= 7 {
        r.skip(8, "session_id, session_epoch")?;
    }
    let n = r.count("topics", f)?;
    let topics = elements(r, n, |r| {
        let topic = topic_ref(r, v >= 13, "topics[].topic", f)?;
        let n = r.count("topics[].partitions", f)?;
        let partitions = elements(r, n, |r| {
            let p = r.i32("partitions[].partition")?;
            if v >= 9 {
                r.skip(4, "partitions[].current_leader_epoch")?;
            }
            r.skip(8, "partitions[].fetch_offset")?;
            if v >= 12 {
                r.skip(4, "partitions[].last_fetched_epoch")?;
            }
            if v >= 5 {
                r.skip(8, "partitions[].log_start_offset")?;
            }
            r.skip(4, "partitions[].partition_max_bytes")?;
            r.tagged_fields("partitions[] tagged fields", f)?;
            Ok(p)
        })?;
        r.tagged_fields("topics[] tagged fields", f)?;
        Ok(TopicPartitions { topic, partitions })
    })?;
    let forgotten = if v >= 7 {
        let n = r.count("forgotten_topics_data", f)?;
        elements(r, n, |r| {
            let topic = topic_ref(r, v >= 13, "forgotten_topics_data[].topic", f)?;
            let partitions = r.i32_array("forgotten_topics_data[].partitions", f)?;
            r.tagged_fields("forgotten_topics_data[] tagged fields", f)?;
            Ok(TopicPartitions { topic, partitions })
        })?
    } else {
        Vec::new()
    };
    if v >= 11 {
        r.skip_str("rack_id", f)?;
    }
    r.tagged_fields("tagged fields", f)?;
    Ok(RequestBody::Fetch { topics, forgotten })
}

fn list_offsets(r: &mut Reader<'_>, v: i16, f: bool) -> Result<RequestBody, KafkaError> {
    r.skip(4, "replica_id")?;
    if v >= 2 {
        r.skip(1, "isolation_level")?;
    }
    let n = r.count("topics", f)?;
    let topics = elements(r, n, |r| {
        let topic = TopicRef::Name(r.str("topics[].name", f)?.to_owned());
        let n = r.count("topics[].partitions", f)?;
        let partitions = elements(r, n, |r| {
            let p = r.i32("partitions[].partition_index")?;
            if v >= 4 {
                r.skip(4, "partitions[].current_leader_epoch")?;
            }
            r.skip(8, "partitions[].timestamp")?;
            if v == 0 {
                r.skip(4, "partitions[].max_num_offsets")?;
            }
            r.tagged_fields("partitions[] tagged fields", f)?;
            Ok(p)
        })?;
        r.tagged_fields("topics[] tagged fields", f)?;
        Ok(TopicPartitions { topic, partitions })
    })?;
    if v >= 10 {
        r.skip(4, "timeout_ms")?;
    }
    r.tagged_fields("tagged fields", f)?;
    Ok(RequestBody::ListOffsets { topics })
}

fn metadata(r: &mut Reader<'_>, v: i16, f: bool) -> Result<RequestBody, KafkaError> {
    let at = r.offset();
    let topics = match r.array_len("topics", f)? {
        None if v == 0 => {
            return Err(KafkaError::UnexpectedNull {
                field: "topics",
                offset: at,
            });
        }
        None => None,
        Some(0) if v == 0 => None,
        Some(n) => Some(elements(r, n, |r| {
            let id = if v >= 10 {
                Some(r.uuid("topics[].topic_id")?)
            } else {
                None
            };
            let at = r.offset();
            let name = if v >= 10 {
                r.nullable_str("topics[].name", f)?
            } else {
                Some(r.str("topics[].name", f)?)
            };
            r.tagged_fields("topics[] tagged fields", f)?;
            match (name, id) {
                (Some(n), _) => Ok(TopicRef::Name(n.to_owned())),
                (None, Some(id)) => Ok(TopicRef::Id(id)),
                (None, None) => Err(KafkaError::UnexpectedNull {
                    field: "topics[].name",
                    offset: at,
                }),
            }
        })?),
    };
    if v >= 4 {
        r.skip(1, "allow_auto_topic_creation")?;
    }
    if (8..=10).contains(&v) {
        r.skip(1, "include_cluster_authorized_operations")?;
    }
    if v >= 8 {
        r.skip(1, "include_topic_authorized_operations")?;
    }
    r.tagged_fields("tagged fields", f)?;
    Ok(RequestBody::Metadata { topics })
}

fn offset_commit(r: &mut Reader<'_>, v: i16, f: bool) -> Result<RequestBody, KafkaError> {
    let group_id = r.str("group_id", f)?.to_owned();
    if v >= 1 {
        r.skip(4, "generation_id_or_member_epoch")?;
        r.skip_str("member_id", f)?;
    }
    if v >= 7 {
        r.skip_str("group_instance_id", f)?;
    }
    if (2..=4).contains(&v) {
        r.skip(8, "retention_time_ms")?;
    }
    let n = r.count("topics", f)?;
    let topics = elements(r, n, |r| {
        let topic = topic_ref(r, v >= 10, "topics[].name", f)?;
        let n = r.count("topics[].partitions", f)?;
        let partitions = elements(r, n, |r| {
            let p = r.i32("partitions[].partition_index")?;
            r.skip(8, "partitions[].committed_offset")?;
            if v >= 6 {
                r.skip(4, "partitions[].committed_leader_epoch")?;
            }
            if v == 1 {
                r.skip(8, "partitions[].commit_timestamp")?;
            }
            r.skip_str("partitions[].committed_metadata", f)?;
            r.tagged_fields("partitions[] tagged fields", f)?;
            Ok(p)
        })?;
        r.tagged_fields("topics[] tagged fields", f)?;
        Ok(TopicPartitions { topic, partitions })
    })?;
    r.tagged_fields("tagged fields", f)?;
    Ok(RequestBody::OffsetCommit { group_id, topics })
}

fn offset_fetch_topics(
    r: &mut Reader<'_>,
    v: i16,
    f: bool,
) -> Result<Option<Vec<TopicPartitions>>, KafkaError> {
    let at = r.offset();
    let Some(n) = r.array_len("topics", f)? else {
        // Null (all the group's topics) from v2 on.
        return if v >= 2 {
            Ok(None)
        } else {
            Err(KafkaError::UnexpectedNull {
                field: "topics",
                offset: at,
            })
        };
    };
    elements(r, n, |r| {
        let topic = topic_ref(r, v >= 10, "topics[].name", f)?;
        let partitions = r.i32_array("topics[].partition_indexes", f)?;
        r.tagged_fields("topics[] tagged fields", f)?;
        Ok(TopicPartitions { topic, partitions })
    })
    .map(Some)
}

fn offset_fetch(r: &mut Reader<'_>, v: i16, f: bool) -> Result<RequestBody, KafkaError> {
    let groups = if v <= 7 {
        let group_id = r.str("group_id", f)?.to_owned();
        let topics = offset_fetch_topics(r, v, f)?;
        vec![GroupTopics { group_id, topics }]
    } else {
        let n = r.count("groups", f)?;
        elements(r, n, |r| {
            let group_id = r.str("groups[].group_id", f)?.to_owned();
            if v >= 9 {
                r.skip_str("groups[].member_id", f)?;
                r.skip(4, "groups[].member_epoch")?;
            }
            let topics = offset_fetch_topics(r, v, f)?;
            r.tagged_fields("groups[] tagged fields", f)?;
            Ok(GroupTopics { group_id, topics })
        })?
    };
    if v >= 7 {
        r.skip(1, "require_stable")?;
    }
    r.tagged_fields("tagged fields", f)?;
    Ok(RequestBody::OffsetFetch { groups })
}

fn find_coordinator(r: &mut Reader<'_>, v: i16, f: bool) -> Result<RequestBody, KafkaError> {
    let mut keys = Vec::new();
    if v <= 3 {
        keys.push(r.str("key", f)?.to_owned());
    }
    let key_type = if v >= 1 { r.i8("key_type")? } else { 0 };
    if v >= 4 {
        let n = r.count("coordinator_keys", f)?;
        keys = elements(r, n, |r| Ok(r.str("coordinator_keys[]", f)?.to_owned()))?;
    }
    r.tagged_fields("tagged fields", f)?;
    Ok(RequestBody::FindCoordinator { key_type, keys })
}

fn join_group(r: &mut Reader<'_>, v: i16, f: bool) -> Result<RequestBody, KafkaError> {
    let group_id = r.str("group_id", f)?.to_owned();
    r.skip(4, "session_timeout_ms")?;
    if v >= 1 {
        r.skip(4, "rebalance_timeout_ms")?;
    }
    r.skip_str("member_id", f)?;
    if v >= 5 {
        r.skip_str("group_instance_id", f)?;
    }
    r.skip_str("protocol_type", f)?;
    let n = r.count("protocols", f)?;
    elements(r, n, |r| {
        r.skip_str("protocols[].name", f)?;
        r.skip_bytes("protocols[].metadata", f)?;
        r.tagged_fields("protocols[] tagged fields", f)
    })?;
    if v >= 8 {
        r.skip_str("reason", f)?;
    }
    r.tagged_fields("tagged fields", f)?;
    Ok(RequestBody::Group { group_id })
}

fn heartbeat(r: &mut Reader<'_>, v: i16, f: bool) -> Result<RequestBody, KafkaError> {
    let group_id = r.str("group_id", f)?.to_owned();
    r.skip(4, "generation_id")?;
    r.skip_str("member_id", f)?;
    if v >= 3 {
        r.skip_str("group_instance_id", f)?;
    }
    r.tagged_fields("tagged fields", f)?;
    Ok(RequestBody::Group { group_id })
}

fn leave_group(r: &mut Reader<'_>, v: i16, f: bool) -> Result<RequestBody, KafkaError> {
    let group_id = r.str("group_id", f)?.to_owned();
    if v <= 2 {
        r.skip_str("member_id", f)?;
    } else {
        let n = r.count("members", f)?;
        elements(r, n, |r| {
            r.skip_str("members[].member_id", f)?;
            r.skip_str("members[].group_instance_id", f)?;
            if v >= 5 {
                r.skip_str("members[].reason", f)?;
            }
            r.tagged_fields("members[] tagged fields", f)
        })?;
    }
    r.tagged_fields("tagged fields", f)?;
    Ok(RequestBody::Group { group_id })
}

fn sync_group(r: &mut Reader<'_>, v: i16, f: bool) -> Result<RequestBody, KafkaError> {
    let group_id = r.str("group_id", f)?.to_owned();
    r.skip(4, "generation_id")?;
    r.skip_str("member_id", f)?;
    if v >= 3 {
        r.skip_str("group_instance_id", f)?;
    }
    if v >= 5 {
        r.skip_str("protocol_type", f)?;
        r.skip_str("protocol_name", f)?;
    }
    let n = r.count("assignments", f)?;
    elements(r, n, |r| {
        r.skip_str("assignments[].member_id", f)?;
        r.skip_bytes("assignments[].assignment", f)?;
        r.tagged_fields("assignments[] tagged fields", f)
    })?;
    r.tagged_fields("tagged fields", f)?;
    Ok(RequestBody::Group { group_id })
}

fn create_topics(r: &mut Reader<'_>, v: i16, f: bool) -> Result<RequestBody, KafkaError> {
    let n = r.count("topics", f)?;
    let topics = elements(r, n, |r| {
        let name = r.str("topics[].name", f)?.to_owned();
        r.skip(6, "topics[].num_partitions, replication_factor")?;
        let n = r.count("topics[].assignments", f)?;
        elements(r, n, |r| {
            r.skip(4, "assignments[].partition_index")?;
            r.i32_array("assignments[].broker_ids", f)?;
            r.tagged_fields("assignments[] tagged fields", f)
        })?;
        let n = r.count("topics[].configs", f)?;
        elements(r, n, |r| {
            r.skip_str("configs[].name", f)?;
            r.skip_str("configs[].value", f)?;
            r.tagged_fields("configs[] tagged fields", f)
        })?;
        r.tagged_fields("topics[] tagged fields", f)?;
        Ok(name)
    })?;
    r.skip(4, "timeout_ms")?;
    if v >= 1 {
        r.skip(1, "validate_only")?;
    }
    r.tagged_fields("tagged fields", f)?;
    Ok(RequestBody::CreateTopics { topics })
}

fn delete_topics(r: &mut Reader<'_>, v: i16, f: bool) -> Result<RequestBody, KafkaError> {
    let topics = if v <= 5 {
        let n = r.count("topic_names", f)?;
        elements(r, n, |r| {
            Ok(TopicRef::Name(r.str("topic_names[]", f)?.to_owned()))
        })?
    } else {
        let n = r.count("topics", f)?;
        elements(r, n, |r| {
            let name = r.nullable_str("topics[].name", f)?.map(str::to_owned);
            let id = r.uuid("topics[].topic_id")?;
            r.tagged_fields("topics[] tagged fields", f)?;
            Ok(name.map_or(TopicRef::Id(id), TopicRef::Name))
        })?
    };
    r.skip(4, "timeout_ms")?;
    r.tagged_fields("tagged fields", f)?;
    Ok(RequestBody::DeleteTopics { topics })
}

fn delete_records(r: &mut Reader<'_>, f: bool) -> Result<RequestBody, KafkaError> {
    let n = r.count("topics", f)?;
    let topics = elements(r, n, |r| {
        let topic = TopicRef::Name(r.str("topics[].name", f)?.to_owned());
        let n = r.count("topics[].partitions", f)?;
        let partitions = elements(r, n, |r| {
            let p = r.i32("partitions[].partition_index")?;
            r.skip(8, "partitions[].offset")?;
            r.tagged_fields("partitions[] tagged fields", f)?;
            Ok(p)
        })?;
        r.tagged_fields("topics[] tagged fields", f)?;
        Ok(TopicPartitions { topic, partitions })
    })?;
    r.skip(4, "timeout_ms")?;
    r.tagged_fields("tagged fields", f)?;
    Ok(RequestBody::Topics { topics })
}

fn offset_for_leader_epoch(r: &mut Reader<'_>, v: i16, f: bool) -> Result<RequestBody, KafkaError> {
    if v >= 3 {
        r.skip(4, "replica_id")?;
    }
    let n = r.count("topics", f)?;
    let topics = elements(r, n, |r| {
        let topic = TopicRef::Name(r.str("topics[].topic", f)?.to_owned());
        let n = r.count("topics[].partitions", f)?;
        let partitions = elements(r, n, |r| {
            let p = r.i32("partitions[].partition")?;
            if v >= 2 {
                r.skip(4, "partitions[].current_leader_epoch")?;
            }
            r.skip(4, "partitions[].leader_epoch")?;
            r.tagged_fields("partitions[] tagged fields", f)?;
            Ok(p)
        })?;
        r.tagged_fields("topics[] tagged fields", f)?;
        Ok(TopicPartitions { topic, partitions })
    })?;
    r.tagged_fields("tagged fields", f)?;
    Ok(RequestBody::Topics { topics })
}

fn txn_topics(r: &mut Reader<'_>, f: bool) -> Result<Vec<TopicPartitions>, KafkaError> {
    let n = r.count("topics", f)?;
    elements(r, n, |r| {
        let topic = TopicRef::Name(r.str("topics[].name", f)?.to_owned());
        let partitions = r.i32_array("topics[].partitions", f)?;
        r.tagged_fields("topics[] tagged fields", f)?;
        Ok(TopicPartitions { topic, partitions })
    })
}

fn add_partitions_to_txn(r: &mut Reader<'_>, v: i16, f: bool) -> Result<RequestBody, KafkaError> {
    let topics = if v <= 3 {
        r.skip_str("transactional_id", f)?;
        r.skip(10, "producer_id, producer_epoch")?;
        txn_topics(r, f)?
    } else {
        let n = r.count("transactions", f)?;
        let per_txn = elements(r, n, |r| {
            r.skip_str("transactions[].transactional_id", f)?;
            r.skip(
                11,
                "transactions[].producer_id, producer_epoch, verify_only",
            )?;
            let topics = txn_topics(r, f)?;
            r.tagged_fields("transactions[] tagged fields", f)?;
            Ok(topics)
        })?;
        per_txn.into_iter().flatten().collect()
    };
    r.tagged_fields("tagged fields", f)?;
    Ok(RequestBody::Topics { topics })
}

fn txn_offset_commit(r: &mut Reader<'_>, v: i16, f: bool) -> Result<RequestBody, KafkaError> {
    r.skip_str("transactional_id", f)?;
    r.skip_str("group_id", f)?;
    r.skip(10, "producer_id, producer_epoch")?;
    if v >= 3 {
        r.skip(4, "generation_id")?;
        r.skip_str("member_id", f)?;
        r.skip_str("group_instance_id", f)?;
    }
    let n = r.count("topics", f)?;
    let topics = elements(r, n, |r| {
        let topic = TopicRef::Name(r.str("topics[].name", f)?.to_owned());
        let n = r.count("topics[].partitions", f)?;
        let partitions = elements(r, n, |r| {
            let p = r.i32("partitions[].partition_index")?;
            r.skip(8, "partitions[].committed_offset")?;
            if v >= 2 {
                r.skip(4, "partitions[].committed_leader_epoch")?;
            }
            r.skip_str("partitions[].committed_metadata", f)?;
            r.tagged_fields("partitions[] tagged fields", f)?;
            Ok(p)
        })?;
        r.tagged_fields("topics[] tagged fields", f)?;
        Ok(TopicPartitions { topic, partitions })
    })?;
    r.tagged_fields("tagged fields", f)?;
    Ok(RequestBody::Topics { topics })
}

impl KafkaRequestFrame {
    /// Every topic the request names or identifies, in request order, without repeats.
    /// Forgotten fetch-session topics are not included (the request does not read them).
    pub fn topics(&self) -> Vec<TopicRef> {
        let mut out: Vec<TopicRef> = Vec::new();
        let mut push = |t: &TopicRef| {
            if !out.contains(t) {
                out.push(t.clone());
            }
        };
        match &self.body {
            RequestBody::Produce { topics, .. }
            | RequestBody::Fetch { topics, .. }
            | RequestBody::ListOffsets { topics }
            | RequestBody::OffsetCommit { topics, .. }
            | RequestBody::Topics { topics } => topics.iter().for_each(|t| push(&t.topic)),
            RequestBody::Metadata { topics } => topics.iter().flatten().for_each(push),
            RequestBody::OffsetFetch { groups } => groups
                .iter()
                .filter_map(|g| g.topics.as_ref())
                .flatten()
                .for_each(|t| push(&t.topic)),
            RequestBody::CreateTopics { topics } => {
                topics.iter().for_each(|t| push(&TopicRef::Name(t.clone())))
            }
            RequestBody::DeleteTopics { topics } => topics.iter().for_each(push),
            RequestBody::FindCoordinator { .. }
            | RequestBody::Group { .. }
            | RequestBody::ApiVersions
            | RequestBody::NotParsed => {}
        }
        out
    }

    /// The topic names of the request (topics given by id are left out: no rule can name
    /// them, so a rule with a topic does not match such a request).
    pub fn topic_names(&self) -> Vec<String> {
        self.topics()
            .into_iter()
            .filter_map(|t| match t {
                TopicRef::Name(n) => Some(n),
                TopicRef::Id(_) => None,
            })
            .collect()
    }

    /// The request as `KafkaRule::matches` sees it.
    pub fn to_policy_request(&self) -> KafkaRequest {
        KafkaRequest {
            api_key: self.header.api_key,
            api_version: self.header.api_version,
            client_id: self.header.client_id.clone().unwrap_or_default(),
            topics: self.topic_names(),
        }
    }

    /// Whether the broker answers this request: all but Produce with `acks = 0`.
    pub fn expects_response(&self) -> bool {
        !matches!(self.body, RequestBody::Produce { acks: 0, .. })
    }

    /// The response a denied request gets (see [`Refusal`]).
    ///
    /// # Errors
    ///
    /// [`RefusalError`] when no response can be built (the proxy then closes the connection,
    /// as the broker would for an acks=0 produce that failed).
    pub fn refusal(&self) -> Result<Refusal, RefusalError> {
        refusal(self)
    }
}

/// The response to a denied request: a whole frame (size prefix included) and the error code
/// it carries.
///
/// Topic-scoped requests (Produce, Fetch, ListOffsets, Metadata with topics, OffsetCommit,
/// OffsetFetch with topics, CreateTopics, DeleteTopics) carry `TOPIC_AUTHORIZATION_FAILED`
/// (29) on every topic and partition; group requests (FindCoordinator for a group, JoinGroup,
/// Heartbeat, LeaveGroup, SyncGroup, OffsetFetch of all a group's topics)
/// `GROUP_AUTHORIZATION_FAILED` (30); FindCoordinator for a transaction
/// `TRANSACTIONAL_ID_AUTHORIZATION_FAILED` (53); ApiVersions `CLUSTER_AUTHORIZATION_FAILED`
/// (31). A Metadata request for all topics gets an empty topic list, as a broker answers a
/// client allowed to see none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The frame to send to the client.
    pub frame: Vec<u8>,
    /// The authorization error it carries.
    pub error_code: i16,
}

/// Why no refusal can be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefusalError {
    /// Produce with `acks = 0`: the client reads no response.
    #[error("produce with acks=0 expects no response")]
    NoResponse,
    /// No response is built for this API or version.
    #[error("no refusal for api key {api_key} version {api_version}: {why}")]
    Unsupported {
        /// API key.
        api_key: i16,
        /// API version.
        api_version: i16,
        /// Why.
        why: &'static str,
    },
    /// `kafka-protocol` refused to encode the response.
    #[error("encoding the refusal for api key {api_key} version {api_version}: {message}")]
    Encode {
        /// API key.
        api_key: i16,
        /// API version.
        api_version: i16,
        /// Its message.
        message: String,
    },
}

/// Hand-written encoding of the response versions `kafka-protocol` 0.18 dropped (all
/// non-flexible: `INT16` string lengths, `INT32` array lengths).
struct Writer(Vec<u8>);

impl Writer {
    fn i16(&mut self, v: i16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn len(&mut self, n: usize) {
        self.i32(i32::try_from(n).unwrap_or(i32::MAX));
    }
    fn str(&mut self, s: &str) {
        // Topic names come from a parsed frame: their length fitted an INT16.
        self.i16(i16::try_from(s.len()).unwrap_or(i16::MAX));
        self.0.extend_from_slice(s.as_bytes());
    }
}

fn topic_name(t: &TopicRef) -> &str {
    match t {
        TopicRef::Name(n) => n,
        TopicRef::Id(_) => "",
    }
}

/// A topic id as `kafka-protocol`'s `Uuid` (through its `FromStr`, so this crate needs no
/// `uuid` dependency of its own).
fn uuid_of<U: std::str::FromStr>(t: &TopicRef) -> Option<U> {
    match t {
        TopicRef::Id(id) => t_uuid(id).parse().ok(),
        TopicRef::Name(_) => None,
    }
}

fn t_uuid(id: &[u8; 16]) -> String {
    TopicRef::Id(*id).to_string()
}

fn str_bytes(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_owned())
}

fn refusal(req: &KafkaRequestFrame) -> Result<Refusal, RefusalError> {
    let h = &req.header;
    let (k, v) = (h.api_key, h.api_version);
    let unsupported = |why| RefusalError::Unsupported {
        api_key: k,
        api_version: v,
        why,
    };
    let topic_err = TOPIC_AUTHORIZATION_FAILED;
    // Old versions kafka-protocol 0.18 no longer encodes.
    let mut w = Writer(Vec::new());
    let hand_made = match &req.body {
        RequestBody::Produce { acks: 0, .. } => return Err(RefusalError::NoResponse),
        RequestBody::Produce { topics, .. } if v <= 2 => {
            w.len(topics.len());
            for t in topics {
                w.str(topic_name(&t.topic));
                w.len(t.partitions.len());
                for &p in &t.partitions {
                    w.i32(p);
                    w.i16(topic_err);
                    w.i64(-1);
                    if v == 2 {
                        w.i64(-1);
                    }
                }
            }
            if v >= 1 {
                w.i32(0);
            }
            Some(topic_err)
        }
        RequestBody::Fetch { topics, .. } if v <= 3 => {
            if v >= 1 {
                w.i32(0);
            }
            w.len(topics.len());
            for t in topics {
                w.str(topic_name(&t.topic));
                w.len(t.partitions.len());
                for &p in &t.partitions {
                    w.i32(p);
                    w.i16(topic_err);
                    w.i64(-1);
                    w.i32(0);
                }
            }
            Some(topic_err)
        }
        RequestBody::ListOffsets { topics } if v == 0 => {
            w.len(topics.len());
            for t in topics {
                w.str(topic_name(&t.topic));
                w.len(t.partitions.len());
                for &p in &t.partitions {
                    w.i32(p);
                    w.i16(topic_err);
                    w.len(0);
                }
            }
            Some(topic_err)
        }
        RequestBody::OffsetCommit { topics, .. } if v <= 1 => {
            w.len(topics.len());
            for t in topics {
                w.str(topic_name(&t.topic));
                w.len(t.partitions.len());
                for &p in &t.partitions {
                    w.i32(p);
                    w.i16(topic_err);
                }
            }
            Some(topic_err)
        }
        RequestBody::OffsetFetch { groups } if v == 0 => {
            let topics = groups
                .first()
                .and_then(|g| g.topics.as_deref())
                .unwrap_or_default();
            w.len(topics.len());
            for t in topics {
                w.str(topic_name(&t.topic));
                w.len(t.partitions.len());
                for &p in &t.partitions {
                    w.i32(p);
                    w.i64(-1);
                    w.str("");
                    w.i16(topic_err);
                }
            }
            Some(topic_err)
        }
        RequestBody::CreateTopics { topics } if v <= 1 => {
            w.len(topics.len());
            for t in topics {
                w.str(t);
                w.i16(topic_err);
                if v == 1 {
                    w.str(REFUSAL_MESSAGE);
                }
            }
            Some(topic_err)
        }
        RequestBody::DeleteTopics { topics } if v == 0 => {
            w.len(topics.len());
            for t in topics {
                w.str(topic_name(t));
                w.i16(topic_err);
            }
            Some(topic_err)
        }
        _ => None,
    };
    if let Some(error_code) = hand_made {
        let mut frame = Vec::with_capacity(w.0.len() + 8);
        let size = i32::try_from(w.0.len() + 4).unwrap_or(i32::MAX);
        frame.extend_from_slice(&size.to_be_bytes());
        frame.extend_from_slice(&h.correlation_id.to_be_bytes());
        frame.extend_from_slice(&w.0);
        return Ok(Refusal { frame, error_code });
    }
    let (body, error_code) = encode_response(req).ok_or_else(|| match req.body {
        RequestBody::NotParsed => unsupported("the request's body is not read by this parser"),
        RequestBody::Topics { .. } => unsupported("no refusal is built for this API"),
        _ => unsupported("kafka-protocol has no response of this version"),
    })??;
    let Some(header_version) = response_header_version(k, v) else {
        return Err(unsupported("unknown API key"));
    };
    let header = km::ResponseHeader::default().with_correlation_id(h.correlation_id);
    let mut out = Vec::new();
    header
        .encode(&mut out, header_version)
        .map_err(|e| RefusalError::Encode {
            api_key: k,
            api_version: v,
            message: e.to_string(),
        })?;
    out.extend_from_slice(&body);
    let mut frame = Vec::with_capacity(out.len() + 4);
    frame.extend_from_slice(&i32::try_from(out.len()).unwrap_or(i32::MAX).to_be_bytes());
    frame.extend_from_slice(&out);
    Ok(Refusal { frame, error_code })
}

/// Whether `kafka-protocol` encodes the response of `M` at `version`.
fn covered<M: kafka_protocol::protocol::Message>(version: i16) -> bool {
    (M::VERSIONS.min..=M::VERSIONS.max).contains(&version)
}

type Encoded = Result<(Vec<u8>, i16), RefusalError>;

fn encode_msg<M: Encodable>(msg: &M, k: i16, v: i16, code: i16) -> Encoded {
    let mut out = Vec::new();
    msg.encode(&mut out, v)
        .map(|()| (out, code))
        .map_err(|e| RefusalError::Encode {
            api_key: k,
            api_version: v,
            message: e.to_string(),
        })
}

/// The refusal body through `kafka-protocol`; `None` when it has no such response.
fn encode_response(req: &KafkaRequestFrame) -> Option<Encoded> {
    let (k, v) = (req.header.api_key, req.header.api_version);
    let te = TOPIC_AUTHORIZATION_FAILED;
    let ge = GROUP_AUTHORIZATION_FAILED;
    Some(match &req.body {
        RequestBody::Produce { topics, .. } if covered::<km::ProduceResponse>(v) => {
            let mut resp = km::ProduceResponse::default();
            for t in topics {
                let mut tr = km::produce_response::TopicProduceResponse::default();
                if v >= 13 {
                    tr.topic_id = uuid_of(&t.topic).unwrap_or_default();
                } else {
                    tr.name = str_bytes(topic_name(&t.topic)).into();
                }
                for &p in &t.partitions {
                    let mut pr = km::produce_response::PartitionProduceResponse::default();
                    pr.index = p;
                    pr.error_code = te;
                    pr.base_offset = -1;
                    if v >= 8 {
                        pr.error_message = Some(str_bytes(REFUSAL_MESSAGE));
                    }
                    tr.partition_responses.push(pr);
                }
                resp.responses.push(tr);
            }
            encode_msg(&resp, k, v, te)
        }
        RequestBody::Fetch { topics, .. } if covered::<km::FetchResponse>(v) => {
            let mut resp = km::FetchResponse::default();
            for t in topics {
                let mut tr = km::fetch_response::FetchableTopicResponse::default();
                if v >= 13 {
                    tr.topic_id = uuid_of(&t.topic).unwrap_or_default();
                } else {
                    tr.topic = str_bytes(topic_name(&t.topic)).into();
                }
                for &p in &t.partitions {
                    let mut pd = km::fetch_response::PartitionData::default();
                    pd.partition_index = p;
                    pd.error_code = te;
                    pd.high_watermark = -1;
                    pd.records = Some(Bytes::new());
                    tr.partitions.push(pd);
                }
                resp.responses.push(tr);
            }
            encode_msg(&resp, k, v, te)
        }
        RequestBody::ListOffsets { topics } if covered::<km::ListOffsetsResponse>(v) => {
            let mut resp = km::ListOffsetsResponse::default();
            for t in topics {
                let mut tr = km::list_offsets_response::ListOffsetsTopicResponse::default();
                tr.name = str_bytes(topic_name(&t.topic)).into();
                for &p in &t.partitions {
                    let mut pr = km::list_offsets_response::ListOffsetsPartitionResponse::default();
                    pr.partition_index = p;
                    pr.error_code = te;
                    tr.partitions.push(pr);
                }
                resp.topics.push(tr);
            }
            encode_msg(&resp, k, v, te)
        }
        RequestBody::Metadata { topics } if covered::<km::MetadataResponse>(v) => {
            let mut resp = km::MetadataResponse::default();
            for t in topics.iter().flatten() {
                let mut tr = km::metadata_response::MetadataResponseTopic::default();
                tr.error_code = te;
                match t {
                    TopicRef::Name(n) => tr.name = Some(str_bytes(n).into()),
                    TopicRef::Id(_) => {
                        tr.topic_id = uuid_of(t).unwrap_or_default();
                        // The name is nullable from v12 on.
                        tr.name = (v < 12).then(|| str_bytes("").into());
                    }
                }
                resp.topics.push(tr);
            }
            encode_msg(&resp, k, v, te)
        }
        RequestBody::OffsetCommit { topics, .. } if covered::<km::OffsetCommitResponse>(v) => {
            let mut resp = km::OffsetCommitResponse::default();
            for t in topics {
                let mut tr = km::offset_commit_response::OffsetCommitResponseTopic::default();
                if v >= 10 {
                    tr.topic_id = uuid_of(&t.topic).unwrap_or_default();
                } else {
                    tr.name = str_bytes(topic_name(&t.topic)).into();
                }
                for &p in &t.partitions {
                    let mut pr =
                        km::offset_commit_response::OffsetCommitResponsePartition::default();
                    pr.partition_index = p;
                    pr.error_code = te;
                    tr.partitions.push(pr);
                }
                resp.topics.push(tr);
            }
            encode_msg(&resp, k, v, te)
        }
        RequestBody::OffsetFetch { groups } if covered::<km::OffsetFetchResponse>(v) => {
            let mut resp = km::OffsetFetchResponse::default();
            let mut code = te;
            if v <= 7 {
                match groups.first().and_then(|g| g.topics.as_ref()) {
                    Some(topics) => {
                        for t in topics {
                            let mut tr =
                                km::offset_fetch_response::OffsetFetchResponseTopic::default();
                            tr.name = str_bytes(topic_name(&t.topic)).into();
                            for &p in &t.partitions {
                                let mut pr =
                                    km::offset_fetch_response::OffsetFetchResponsePartition::default();
                                pr.partition_index = p;
                                pr.committed_offset = -1;
                                pr.metadata = Some(str_bytes(""));
                                pr.error_code = te;
                                tr.partitions.push(pr);
                            }
                            resp.topics.push(tr);
                        }
                    }
                    None => {
                        // All the group's offsets (v2+): the group is what is refused.
                        resp.error_code = ge;
                        code = ge;
                    }
                }
            } else {
                for g in groups {
                    let mut gr = km::offset_fetch_response::OffsetFetchResponseGroup::default();
                    gr.group_id = str_bytes(&g.group_id).into();
                    match &g.topics {
                        Some(topics) => {
                            for t in topics {
                                let mut tr =
                                    km::offset_fetch_response::OffsetFetchResponseTopics::default();
                                if v >= 10 {
                                    tr.topic_id = uuid_of(&t.topic).unwrap_or_default();
                                } else {
                                    tr.name = str_bytes(topic_name(&t.topic)).into();
                                }
                                for &p in &t.partitions {
                                    let mut pr = km::offset_fetch_response::OffsetFetchResponsePartitions::default();
                                    pr.partition_index = p;
                                    pr.committed_offset = -1;
                                    pr.metadata = Some(str_bytes(""));
                                    pr.error_code = te;
                                    tr.partitions.push(pr);
                                }
                                gr.topics.push(tr);
                            }
                        }
                        None => {
                            gr.error_code = ge;
                            code = ge;
                        }
                    }
                    resp.groups.push(gr);
                }
            }
            encode_msg(&resp, k, v, code)
        }
        RequestBody::FindCoordinator { key_type, keys }
            if covered::<km::FindCoordinatorResponse>(v) =>
        {
            let code = if *key_type == 1 {
                TRANSACTIONAL_ID_AUTHORIZATION_FAILED
            } else {
                ge
            };
            let mut resp = km::FindCoordinatorResponse::default();
            if v <= 3 {
                resp.error_code = code;
                resp.node_id = (-1).into();
                resp.port = -1;
                if v >= 1 {
                    resp.error_message = Some(str_bytes(REFUSAL_MESSAGE));
                }
            } else {
                for key in keys {
                    let mut c = km::find_coordinator_response::Coordinator::default();
                    c.key = str_bytes(key);
                    c.node_id = (-1).into();
                    c.port = -1;
                    c.error_code = code;
                    c.error_message = Some(str_bytes(REFUSAL_MESSAGE));
                    resp.coordinators.push(c);
                }
            }
            encode_msg(&resp, k, v, code)
        }
        RequestBody::Group { .. } => match k {
            11 if covered::<km::JoinGroupResponse>(v) => {
                let mut resp = km::JoinGroupResponse::default();
                resp.error_code = ge;
                resp.generation_id = -1;
                // Nullable from v7 on.
                resp.protocol_name = (v < 7).then(|| str_bytes(""));
                encode_msg(&resp, k, v, ge)
            }
            12 if covered::<km::HeartbeatResponse>(v) => {
                let mut resp = km::HeartbeatResponse::default();
                resp.error_code = ge;
                encode_msg(&resp, k, v, ge)
            }
            13 if covered::<km::LeaveGroupResponse>(v) => {
                let mut resp = km::LeaveGroupResponse::default();
                resp.error_code = ge;
                encode_msg(&resp, k, v, ge)
            }
            14 if covered::<km::SyncGroupResponse>(v) => {
                let mut resp = km::SyncGroupResponse::default();
                resp.error_code = ge;
                encode_msg(&resp, k, v, ge)
            }
            _ => return None,
        },
        RequestBody::ApiVersions if covered::<km::ApiVersionsResponse>(v) => {
            let mut resp = km::ApiVersionsResponse::default();
            resp.error_code = CLUSTER_AUTHORIZATION_FAILED;
            encode_msg(&resp, k, v, CLUSTER_AUTHORIZATION_FAILED)
        }
        RequestBody::CreateTopics { topics } if covered::<km::CreateTopicsResponse>(v) => {
            let mut resp = km::CreateTopicsResponse::default();
            for t in topics {
                let mut tr = km::create_topics_response::CreatableTopicResult::default();
                tr.name = str_bytes(t).into();
                tr.error_code = te;
                tr.error_message = Some(str_bytes(REFUSAL_MESSAGE));
                resp.topics.push(tr);
            }
            encode_msg(&resp, k, v, te)
        }
        RequestBody::DeleteTopics { topics } if covered::<km::DeleteTopicsResponse>(v) => {
            let mut resp = km::DeleteTopicsResponse::default();
            for t in topics {
                let mut tr = km::delete_topics_response::DeletableTopicResult::default();
                match t {
                    TopicRef::Name(n) => tr.name = Some(str_bytes(n).into()),
                    TopicRef::Id(_) => tr.topic_id = uuid_of(t).unwrap_or_default(),
                }
                tr.error_code = te;
                if v >= 5 {
                    tr.error_message = Some(str_bytes(REFUSAL_MESSAGE));
                }
                resp.responses.push(tr);
            }
            encode_msg(&resp, k, v, te)
        }
        _ => return None,
    })
}

/// The correlation id of a response frame (`frame` starts with the size prefix).
///
/// # Errors
///
/// [`KafkaError::Truncated`] when fewer than 8 bytes are given.
pub fn response_correlation_id(frame: &[u8]) -> Result<i32, KafkaError> {
    let mut r = Reader::new(frame, 0);
    r.skip(4, "size")?;
    r.i32("correlation_id")
}

/// The error code of a response, for the record: the top-level one where the response has
/// one, else the first partition's (Produce, Fetch below v7). `prefix` is the start of the
/// response frame (size prefix included); it need not hold the whole response. `None` when
/// the prefix is too short or the response has no error code read here.
pub fn response_error_code(api_key: i16, api_version: i16, prefix: &[u8]) -> Option<i16> {
    let flexible = response_header_version(api_key, api_version)? == 1;
    let v = api_version;
    let mut r = Reader::new(prefix, 0);
    r.skip(8, "size, correlation_id").ok()?;
    r.tagged_fields("header tagged fields", flexible).ok()?;
    let throttle = |r: &mut Reader<'_>, from: i16| -> Option<()> {
        if v >= from {
            r.skip(4, "throttle_time_ms").ok()?;
        }
        Some(())
    };
    match api_key {
        // Topics, then the first partition: index, error code.
        0 => {
            r.array_len("responses", flexible).ok()??;
            if v >= 13 {
                r.skip(16, "topic_id").ok()?;
            } else {
                r.skip_str("name", flexible).ok()?;
            }
            r.array_len("partitions", flexible).ok()??;
            r.skip(4, "index").ok()?;
            r.i16("error_code").ok()
        }
        1 if v >= 7 => {
            r.skip(4, "throttle_time_ms").ok()?;
            r.i16("error_code").ok()
        }
        1 => {
            throttle(&mut r, 1)?;
            r.array_len("responses", flexible).ok()??;
            r.skip_str("topic", flexible).ok()?;
            r.array_len("partitions", flexible).ok()??;
            r.skip(4, "partition_index").ok()?;
            r.i16("error_code").ok()
        }
        10 if v <= 3 => {
            throttle(&mut r, 1)?;
            r.i16("error_code").ok()
        }
        11 => {
            throttle(&mut r, 2)?;
            r.i16("error_code").ok()
        }
        12..=14 => {
            throttle(&mut r, 1)?;
            r.i16("error_code").ok()
        }
        18 => r.i16("error_code").ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn produce_v0_golden() {
        let f = hex(
            "0000005700000000000003e80009656d706972652d687100000000000000000002000f646561746873\
             7461722d706c616e730000000100000000ffffffff000f656d706972652d616e6e6f756e636500000001\
             00000000ffffffff",
        );
        let req = parse_request(&f, DEFAULT_MAX_FRAME_BYTES).unwrap();
        assert_eq!(req.header.correlation_id, 1000);
        assert_eq!(req.header.client_id.as_deref(), Some("empire-hq"));
        assert_eq!(
            req.topic_names(),
            vec!["deathstar-plans".to_owned(), "empire-announce".to_owned()]
        );
        assert!(!req.expects_response());
        assert_eq!(req.refusal(), Err(RefusalError::NoResponse));
    }

    #[test]
    fn huge_counts_are_errors_not_allocations() {
        // Metadata v0, topics count 0x7fffffff in a 14-byte frame.
        let mut f = vec![0, 0, 0, 14, 0, 3, 0, 0, 0, 0, 0, 1, 0, 0];
        f.extend_from_slice(&[0x7f, 0xff, 0xff, 0xff]);
        assert_eq!(
            parse_request(&f, DEFAULT_MAX_FRAME_BYTES),
            Err(KafkaError::BadLength {
                field: "topics",
                offset: 14,
                len: i64::from(i32::MAX),
                remaining: 0
            })
        );
    }

    #[test]
    fn frame_bounds() {
        assert_eq!(frame_len(&[0, 0], 100), Ok(None));
        assert_eq!(frame_len(&[0, 0, 0, 8], 100), Ok(Some(12)));
        assert!(frame_len(&[0, 0, 0, 7], 100).is_err());
        assert!(frame_len(&[0xff, 0xff, 0xff, 0xff], 100).is_err());
        assert!(frame_len(&[0, 0, 1, 0], 100).is_err());
    }
}
