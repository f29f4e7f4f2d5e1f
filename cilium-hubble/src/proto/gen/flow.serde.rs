impl serde::Serialize for AuthType {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Disabled => "DISABLED",
            Self::Spire => "SPIRE",
            Self::TestAlwaysFail => "TEST_ALWAYS_FAIL",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for AuthType {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "DISABLED",
            "SPIRE",
            "TEST_ALWAYS_FAIL",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = AuthType;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "DISABLED" => Ok(AuthType::Disabled),
                    "SPIRE" => Ok(AuthType::Spire),
                    "TEST_ALWAYS_FAIL" => Ok(AuthType::TestAlwaysFail),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for CiliumEventType {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.r#type != 0 {
            len += 1;
        }
        if self.sub_type != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.CiliumEventType", len)?;
        if self.r#type != 0 {
            struct_ser.serialize_field("type", &self.r#type)?;
        }
        if self.sub_type != 0 {
            struct_ser.serialize_field("sub_type", &self.sub_type)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for CiliumEventType {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "type",
            "sub_type",
            "subType",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Type,
            SubType,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "type" => Ok(GeneratedField::Type),
                            "subType" | "sub_type" => Ok(GeneratedField::SubType),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = CiliumEventType;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.CiliumEventType")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<CiliumEventType, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut r#type__ = None;
                let mut sub_type__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Type => {
                            if r#type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("type"));
                            }
                            r#type__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::SubType => {
                            if sub_type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("subType"));
                            }
                            sub_type__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(CiliumEventType {
                    r#type: r#type__.unwrap_or_default(),
                    sub_type: sub_type__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("flow.CiliumEventType", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Dns {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.query.is_empty() {
            len += 1;
        }
        if !self.ips.is_empty() {
            len += 1;
        }
        if self.ttl != 0 {
            len += 1;
        }
        if !self.cnames.is_empty() {
            len += 1;
        }
        if !self.observation_source.is_empty() {
            len += 1;
        }
        if self.rcode != 0 {
            len += 1;
        }
        if !self.qtypes.is_empty() {
            len += 1;
        }
        if !self.rrtypes.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.DNS", len)?;
        if !self.query.is_empty() {
            struct_ser.serialize_field("query", &self.query)?;
        }
        if !self.ips.is_empty() {
            struct_ser.serialize_field("ips", &self.ips)?;
        }
        if self.ttl != 0 {
            struct_ser.serialize_field("ttl", &self.ttl)?;
        }
        if !self.cnames.is_empty() {
            struct_ser.serialize_field("cnames", &self.cnames)?;
        }
        if !self.observation_source.is_empty() {
            struct_ser.serialize_field("observation_source", &self.observation_source)?;
        }
        if self.rcode != 0 {
            struct_ser.serialize_field("rcode", &self.rcode)?;
        }
        if !self.qtypes.is_empty() {
            struct_ser.serialize_field("qtypes", &self.qtypes)?;
        }
        if !self.rrtypes.is_empty() {
            struct_ser.serialize_field("rrtypes", &self.rrtypes)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Dns {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "query",
            "ips",
            "ttl",
            "cnames",
            "observation_source",
            "observationSource",
            "rcode",
            "qtypes",
            "rrtypes",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Query,
            Ips,
            Ttl,
            Cnames,
            ObservationSource,
            Rcode,
            Qtypes,
            Rrtypes,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "query" => Ok(GeneratedField::Query),
                            "ips" => Ok(GeneratedField::Ips),
                            "ttl" => Ok(GeneratedField::Ttl),
                            "cnames" => Ok(GeneratedField::Cnames),
                            "observationSource" | "observation_source" => Ok(GeneratedField::ObservationSource),
                            "rcode" => Ok(GeneratedField::Rcode),
                            "qtypes" => Ok(GeneratedField::Qtypes),
                            "rrtypes" => Ok(GeneratedField::Rrtypes),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Dns;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.DNS")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Dns, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut query__ = None;
                let mut ips__ = None;
                let mut ttl__ = None;
                let mut cnames__ = None;
                let mut observation_source__ = None;
                let mut rcode__ = None;
                let mut qtypes__ = None;
                let mut rrtypes__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Query => {
                            if query__.is_some() {
                                return Err(serde::de::Error::duplicate_field("query"));
                            }
                            query__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Ips => {
                            if ips__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ips"));
                            }
                            ips__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Ttl => {
                            if ttl__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ttl"));
                            }
                            ttl__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Cnames => {
                            if cnames__.is_some() {
                                return Err(serde::de::Error::duplicate_field("cnames"));
                            }
                            cnames__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ObservationSource => {
                            if observation_source__.is_some() {
                                return Err(serde::de::Error::duplicate_field("observationSource"));
                            }
                            observation_source__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Rcode => {
                            if rcode__.is_some() {
                                return Err(serde::de::Error::duplicate_field("rcode"));
                            }
                            rcode__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Qtypes => {
                            if qtypes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("qtypes"));
                            }
                            qtypes__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Rrtypes => {
                            if rrtypes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("rrtypes"));
                            }
                            rrtypes__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Dns {
                    query: query__.unwrap_or_default(),
                    ips: ips__.unwrap_or_default(),
                    ttl: ttl__.unwrap_or_default(),
                    cnames: cnames__.unwrap_or_default(),
                    observation_source: observation_source__.unwrap_or_default(),
                    rcode: rcode__.unwrap_or_default(),
                    qtypes: qtypes__.unwrap_or_default(),
                    rrtypes: rrtypes__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("flow.DNS", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for DropReason {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Unknown => "DROP_REASON_UNKNOWN",
            Self::InvalidSourceMac => "INVALID_SOURCE_MAC",
            Self::InvalidDestinationMac => "INVALID_DESTINATION_MAC",
            Self::InvalidSourceIp => "INVALID_SOURCE_IP",
            Self::PolicyDenied => "POLICY_DENIED",
            Self::InvalidPacketDropped => "INVALID_PACKET_DROPPED",
            Self::CtTruncatedOrInvalidHeader => "CT_TRUNCATED_OR_INVALID_HEADER",
            Self::CtMissingTcpAckFlag => "CT_MISSING_TCP_ACK_FLAG",
            Self::CtUnknownL4Protocol => "CT_UNKNOWN_L4_PROTOCOL",
            Self::CtCannotCreateEntryFromPacket => "CT_CANNOT_CREATE_ENTRY_FROM_PACKET",
            Self::UnsupportedL3Protocol => "UNSUPPORTED_L3_PROTOCOL",
            Self::MissedTailCall => "MISSED_TAIL_CALL",
            Self::ErrorWritingToPacket => "ERROR_WRITING_TO_PACKET",
            Self::UnknownL4Protocol => "UNKNOWN_L4_PROTOCOL",
            Self::UnknownIcmpv4Code => "UNKNOWN_ICMPV4_CODE",
            Self::UnknownIcmpv4Type => "UNKNOWN_ICMPV4_TYPE",
            Self::UnknownIcmpv6Code => "UNKNOWN_ICMPV6_CODE",
            Self::UnknownIcmpv6Type => "UNKNOWN_ICMPV6_TYPE",
            Self::ErrorRetrievingTunnelKey => "ERROR_RETRIEVING_TUNNEL_KEY",
            Self::ErrorRetrievingTunnelOptions => "ERROR_RETRIEVING_TUNNEL_OPTIONS",
            Self::InvalidGeneveOption => "INVALID_GENEVE_OPTION",
            Self::UnknownL3TargetAddress => "UNKNOWN_L3_TARGET_ADDRESS",
            Self::StaleOrUnroutableIp => "STALE_OR_UNROUTABLE_IP",
            Self::NoMatchingLocalContainerFound => "NO_MATCHING_LOCAL_CONTAINER_FOUND",
            Self::ErrorWhileCorrectingL3Checksum => "ERROR_WHILE_CORRECTING_L3_CHECKSUM",
            Self::ErrorWhileCorrectingL4Checksum => "ERROR_WHILE_CORRECTING_L4_CHECKSUM",
            Self::CtMapInsertionFailed => "CT_MAP_INSERTION_FAILED",
            Self::InvalidIpv6ExtensionHeader => "INVALID_IPV6_EXTENSION_HEADER",
            Self::IpFragmentationNotSupported => "IP_FRAGMENTATION_NOT_SUPPORTED",
            Self::ServiceBackendNotFound => "SERVICE_BACKEND_NOT_FOUND",
            Self::NoTunnelOrEncapsulationEndpoint => "NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT",
            Self::FailedToInsertIntoProxymap => "FAILED_TO_INSERT_INTO_PROXYMAP",
            Self::ReachedEdtRateLimitingDropHorizon => "REACHED_EDT_RATE_LIMITING_DROP_HORIZON",
            Self::UnknownConnectionTrackingState => "UNKNOWN_CONNECTION_TRACKING_STATE",
            Self::LocalHostIsUnreachable => "LOCAL_HOST_IS_UNREACHABLE",
            Self::NoConfigurationAvailableToPerformPolicyDecision => "NO_CONFIGURATION_AVAILABLE_TO_PERFORM_POLICY_DECISION",
            Self::UnsupportedL2Protocol => "UNSUPPORTED_L2_PROTOCOL",
            Self::NoMappingForNatMasquerade => "NO_MAPPING_FOR_NAT_MASQUERADE",
            Self::UnsupportedProtocolForNatMasquerade => "UNSUPPORTED_PROTOCOL_FOR_NAT_MASQUERADE",
            Self::FibLookupFailed => "FIB_LOOKUP_FAILED",
            Self::EncapsulationTrafficIsProhibited => "ENCAPSULATION_TRAFFIC_IS_PROHIBITED",
            Self::InvalidIdentity => "INVALID_IDENTITY",
            Self::UnknownSender => "UNKNOWN_SENDER",
            Self::NatNotNeeded => "NAT_NOT_NEEDED",
            Self::IsAClusterip => "IS_A_CLUSTERIP",
            Self::FirstLogicalDatagramFragmentNotFound => "FIRST_LOGICAL_DATAGRAM_FRAGMENT_NOT_FOUND",
            Self::ForbiddenIcmpv6Message => "FORBIDDEN_ICMPV6_MESSAGE",
            Self::DeniedByLbSrcRangeCheck => "DENIED_BY_LB_SRC_RANGE_CHECK",
            Self::SocketLookupFailed => "SOCKET_LOOKUP_FAILED",
            Self::SocketAssignFailed => "SOCKET_ASSIGN_FAILED",
            Self::ProxyRedirectionNotSupportedForProtocol => "PROXY_REDIRECTION_NOT_SUPPORTED_FOR_PROTOCOL",
            Self::PolicyDeny => "POLICY_DENY",
            Self::VlanFiltered => "VLAN_FILTERED",
            Self::InvalidVni => "INVALID_VNI",
            Self::InvalidTcBuffer => "INVALID_TC_BUFFER",
            Self::NoSid => "NO_SID",
            Self::MissingSrv6State => "MISSING_SRV6_STATE",
            Self::Nat46 => "NAT46",
            Self::Nat64 => "NAT64",
            Self::AuthRequired => "AUTH_REQUIRED",
            Self::CtNoMapFound => "CT_NO_MAP_FOUND",
            Self::SnatNoMapFound => "SNAT_NO_MAP_FOUND",
            Self::InvalidClusterId => "INVALID_CLUSTER_ID",
            Self::UnsupportedProtocolForDsrEncap => "UNSUPPORTED_PROTOCOL_FOR_DSR_ENCAP",
            Self::NoEgressGateway => "NO_EGRESS_GATEWAY",
            Self::UnencryptedTraffic => "UNENCRYPTED_TRAFFIC",
            Self::TtlExceeded => "TTL_EXCEEDED",
            Self::NoNodeId => "NO_NODE_ID",
            Self::DropRateLimited => "DROP_RATE_LIMITED",
            Self::IgmpHandled => "IGMP_HANDLED",
            Self::IgmpSubscribed => "IGMP_SUBSCRIBED",
            Self::MulticastHandled => "MULTICAST_HANDLED",
            Self::DropHostNotReady => "DROP_HOST_NOT_READY",
            Self::DropEpNotReady => "DROP_EP_NOT_READY",
            Self::DropNoEgressIp => "DROP_NO_EGRESS_IP",
            Self::DropPuntProxy => "DROP_PUNT_PROXY",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for DropReason {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "DROP_REASON_UNKNOWN",
            "INVALID_SOURCE_MAC",
            "INVALID_DESTINATION_MAC",
            "INVALID_SOURCE_IP",
            "POLICY_DENIED",
            "INVALID_PACKET_DROPPED",
            "CT_TRUNCATED_OR_INVALID_HEADER",
            "CT_MISSING_TCP_ACK_FLAG",
            "CT_UNKNOWN_L4_PROTOCOL",
            "CT_CANNOT_CREATE_ENTRY_FROM_PACKET",
            "UNSUPPORTED_L3_PROTOCOL",
            "MISSED_TAIL_CALL",
            "ERROR_WRITING_TO_PACKET",
            "UNKNOWN_L4_PROTOCOL",
            "UNKNOWN_ICMPV4_CODE",
            "UNKNOWN_ICMPV4_TYPE",
            "UNKNOWN_ICMPV6_CODE",
            "UNKNOWN_ICMPV6_TYPE",
            "ERROR_RETRIEVING_TUNNEL_KEY",
            "ERROR_RETRIEVING_TUNNEL_OPTIONS",
            "INVALID_GENEVE_OPTION",
            "UNKNOWN_L3_TARGET_ADDRESS",
            "STALE_OR_UNROUTABLE_IP",
            "NO_MATCHING_LOCAL_CONTAINER_FOUND",
            "ERROR_WHILE_CORRECTING_L3_CHECKSUM",
            "ERROR_WHILE_CORRECTING_L4_CHECKSUM",
            "CT_MAP_INSERTION_FAILED",
            "INVALID_IPV6_EXTENSION_HEADER",
            "IP_FRAGMENTATION_NOT_SUPPORTED",
            "SERVICE_BACKEND_NOT_FOUND",
            "NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT",
            "FAILED_TO_INSERT_INTO_PROXYMAP",
            "REACHED_EDT_RATE_LIMITING_DROP_HORIZON",
            "UNKNOWN_CONNECTION_TRACKING_STATE",
            "LOCAL_HOST_IS_UNREACHABLE",
            "NO_CONFIGURATION_AVAILABLE_TO_PERFORM_POLICY_DECISION",
            "UNSUPPORTED_L2_PROTOCOL",
            "NO_MAPPING_FOR_NAT_MASQUERADE",
            "UNSUPPORTED_PROTOCOL_FOR_NAT_MASQUERADE",
            "FIB_LOOKUP_FAILED",
            "ENCAPSULATION_TRAFFIC_IS_PROHIBITED",
            "INVALID_IDENTITY",
            "UNKNOWN_SENDER",
            "NAT_NOT_NEEDED",
            "IS_A_CLUSTERIP",
            "FIRST_LOGICAL_DATAGRAM_FRAGMENT_NOT_FOUND",
            "FORBIDDEN_ICMPV6_MESSAGE",
            "DENIED_BY_LB_SRC_RANGE_CHECK",
            "SOCKET_LOOKUP_FAILED",
            "SOCKET_ASSIGN_FAILED",
            "PROXY_REDIRECTION_NOT_SUPPORTED_FOR_PROTOCOL",
            "POLICY_DENY",
            "VLAN_FILTERED",
            "INVALID_VNI",
            "INVALID_TC_BUFFER",
            "NO_SID",
            "MISSING_SRV6_STATE",
            "NAT46",
            "NAT64",
            "AUTH_REQUIRED",
            "CT_NO_MAP_FOUND",
            "SNAT_NO_MAP_FOUND",
            "INVALID_CLUSTER_ID",
            "UNSUPPORTED_PROTOCOL_FOR_DSR_ENCAP",
            "NO_EGRESS_GATEWAY",
            "UNENCRYPTED_TRAFFIC",
            "TTL_EXCEEDED",
            "NO_NODE_ID",
            "DROP_RATE_LIMITED",
            "IGMP_HANDLED",
            "IGMP_SUBSCRIBED",
            "MULTICAST_HANDLED",
            "DROP_HOST_NOT_READY",
            "DROP_EP_NOT_READY",
            "DROP_NO_EGRESS_IP",
            "DROP_PUNT_PROXY",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = DropReason;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "DROP_REASON_UNKNOWN" => Ok(DropReason::Unknown),
                    "INVALID_SOURCE_MAC" => Ok(DropReason::InvalidSourceMac),
                    "INVALID_DESTINATION_MAC" => Ok(DropReason::InvalidDestinationMac),
                    "INVALID_SOURCE_IP" => Ok(DropReason::InvalidSourceIp),
                    "POLICY_DENIED" => Ok(DropReason::PolicyDenied),
                    "INVALID_PACKET_DROPPED" => Ok(DropReason::InvalidPacketDropped),
                    "CT_TRUNCATED_OR_INVALID_HEADER" => Ok(DropReason::CtTruncatedOrInvalidHeader),
                    "CT_MISSING_TCP_ACK_FLAG" => Ok(DropReason::CtMissingTcpAckFlag),
                    "CT_UNKNOWN_L4_PROTOCOL" => Ok(DropReason::CtUnknownL4Protocol),
                    "CT_CANNOT_CREATE_ENTRY_FROM_PACKET" => Ok(DropReason::CtCannotCreateEntryFromPacket),
                    "UNSUPPORTED_L3_PROTOCOL" => Ok(DropReason::UnsupportedL3Protocol),
                    "MISSED_TAIL_CALL" => Ok(DropReason::MissedTailCall),
                    "ERROR_WRITING_TO_PACKET" => Ok(DropReason::ErrorWritingToPacket),
                    "UNKNOWN_L4_PROTOCOL" => Ok(DropReason::UnknownL4Protocol),
                    "UNKNOWN_ICMPV4_CODE" => Ok(DropReason::UnknownIcmpv4Code),
                    "UNKNOWN_ICMPV4_TYPE" => Ok(DropReason::UnknownIcmpv4Type),
                    "UNKNOWN_ICMPV6_CODE" => Ok(DropReason::UnknownIcmpv6Code),
                    "UNKNOWN_ICMPV6_TYPE" => Ok(DropReason::UnknownIcmpv6Type),
                    "ERROR_RETRIEVING_TUNNEL_KEY" => Ok(DropReason::ErrorRetrievingTunnelKey),
                    "ERROR_RETRIEVING_TUNNEL_OPTIONS" => Ok(DropReason::ErrorRetrievingTunnelOptions),
                    "INVALID_GENEVE_OPTION" => Ok(DropReason::InvalidGeneveOption),
                    "UNKNOWN_L3_TARGET_ADDRESS" => Ok(DropReason::UnknownL3TargetAddress),
                    "STALE_OR_UNROUTABLE_IP" => Ok(DropReason::StaleOrUnroutableIp),
                    "NO_MATCHING_LOCAL_CONTAINER_FOUND" => Ok(DropReason::NoMatchingLocalContainerFound),
                    "ERROR_WHILE_CORRECTING_L3_CHECKSUM" => Ok(DropReason::ErrorWhileCorrectingL3Checksum),
                    "ERROR_WHILE_CORRECTING_L4_CHECKSUM" => Ok(DropReason::ErrorWhileCorrectingL4Checksum),
                    "CT_MAP_INSERTION_FAILED" => Ok(DropReason::CtMapInsertionFailed),
                    "INVALID_IPV6_EXTENSION_HEADER" => Ok(DropReason::InvalidIpv6ExtensionHeader),
                    "IP_FRAGMENTATION_NOT_SUPPORTED" => Ok(DropReason::IpFragmentationNotSupported),
                    "SERVICE_BACKEND_NOT_FOUND" => Ok(DropReason::ServiceBackendNotFound),
                    "NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT" => Ok(DropReason::NoTunnelOrEncapsulationEndpoint),
                    "FAILED_TO_INSERT_INTO_PROXYMAP" => Ok(DropReason::FailedToInsertIntoProxymap),
                    "REACHED_EDT_RATE_LIMITING_DROP_HORIZON" => Ok(DropReason::ReachedEdtRateLimitingDropHorizon),
                    "UNKNOWN_CONNECTION_TRACKING_STATE" => Ok(DropReason::UnknownConnectionTrackingState),
                    "LOCAL_HOST_IS_UNREACHABLE" => Ok(DropReason::LocalHostIsUnreachable),
                    "NO_CONFIGURATION_AVAILABLE_TO_PERFORM_POLICY_DECISION" => Ok(DropReason::NoConfigurationAvailableToPerformPolicyDecision),
                    "UNSUPPORTED_L2_PROTOCOL" => Ok(DropReason::UnsupportedL2Protocol),
                    "NO_MAPPING_FOR_NAT_MASQUERADE" => Ok(DropReason::NoMappingForNatMasquerade),
                    "UNSUPPORTED_PROTOCOL_FOR_NAT_MASQUERADE" => Ok(DropReason::UnsupportedProtocolForNatMasquerade),
                    "FIB_LOOKUP_FAILED" => Ok(DropReason::FibLookupFailed),
                    "ENCAPSULATION_TRAFFIC_IS_PROHIBITED" => Ok(DropReason::EncapsulationTrafficIsProhibited),
                    "INVALID_IDENTITY" => Ok(DropReason::InvalidIdentity),
                    "UNKNOWN_SENDER" => Ok(DropReason::UnknownSender),
                    "NAT_NOT_NEEDED" => Ok(DropReason::NatNotNeeded),
                    "IS_A_CLUSTERIP" => Ok(DropReason::IsAClusterip),
                    "FIRST_LOGICAL_DATAGRAM_FRAGMENT_NOT_FOUND" => Ok(DropReason::FirstLogicalDatagramFragmentNotFound),
                    "FORBIDDEN_ICMPV6_MESSAGE" => Ok(DropReason::ForbiddenIcmpv6Message),
                    "DENIED_BY_LB_SRC_RANGE_CHECK" => Ok(DropReason::DeniedByLbSrcRangeCheck),
                    "SOCKET_LOOKUP_FAILED" => Ok(DropReason::SocketLookupFailed),
                    "SOCKET_ASSIGN_FAILED" => Ok(DropReason::SocketAssignFailed),
                    "PROXY_REDIRECTION_NOT_SUPPORTED_FOR_PROTOCOL" => Ok(DropReason::ProxyRedirectionNotSupportedForProtocol),
                    "POLICY_DENY" => Ok(DropReason::PolicyDeny),
                    "VLAN_FILTERED" => Ok(DropReason::VlanFiltered),
                    "INVALID_VNI" => Ok(DropReason::InvalidVni),
                    "INVALID_TC_BUFFER" => Ok(DropReason::InvalidTcBuffer),
                    "NO_SID" => Ok(DropReason::NoSid),
                    "MISSING_SRV6_STATE" => Ok(DropReason::MissingSrv6State),
                    "NAT46" => Ok(DropReason::Nat46),
                    "NAT64" => Ok(DropReason::Nat64),
                    "AUTH_REQUIRED" => Ok(DropReason::AuthRequired),
                    "CT_NO_MAP_FOUND" => Ok(DropReason::CtNoMapFound),
                    "SNAT_NO_MAP_FOUND" => Ok(DropReason::SnatNoMapFound),
                    "INVALID_CLUSTER_ID" => Ok(DropReason::InvalidClusterId),
                    "UNSUPPORTED_PROTOCOL_FOR_DSR_ENCAP" => Ok(DropReason::UnsupportedProtocolForDsrEncap),
                    "NO_EGRESS_GATEWAY" => Ok(DropReason::NoEgressGateway),
                    "UNENCRYPTED_TRAFFIC" => Ok(DropReason::UnencryptedTraffic),
                    "TTL_EXCEEDED" => Ok(DropReason::TtlExceeded),
                    "NO_NODE_ID" => Ok(DropReason::NoNodeId),
                    "DROP_RATE_LIMITED" => Ok(DropReason::DropRateLimited),
                    "IGMP_HANDLED" => Ok(DropReason::IgmpHandled),
                    "IGMP_SUBSCRIBED" => Ok(DropReason::IgmpSubscribed),
                    "MULTICAST_HANDLED" => Ok(DropReason::MulticastHandled),
                    "DROP_HOST_NOT_READY" => Ok(DropReason::DropHostNotReady),
                    "DROP_EP_NOT_READY" => Ok(DropReason::DropEpNotReady),
                    "DROP_NO_EGRESS_IP" => Ok(DropReason::DropNoEgressIp),
                    "DROP_PUNT_PROXY" => Ok(DropReason::DropPuntProxy),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for Endpoint {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.id != 0 {
            len += 1;
        }
        if self.identity != 0 {
            len += 1;
        }
        if !self.namespace.is_empty() {
            len += 1;
        }
        if !self.labels.is_empty() {
            len += 1;
        }
        if !self.pod_name.is_empty() {
            len += 1;
        }
        if !self.workloads.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.Endpoint", len)?;
        if self.id != 0 {
            struct_ser.serialize_field("ID", &self.id)?;
        }
        if self.identity != 0 {
            struct_ser.serialize_field("identity", &self.identity)?;
        }
        if !self.namespace.is_empty() {
            struct_ser.serialize_field("namespace", &self.namespace)?;
        }
        if !self.labels.is_empty() {
            struct_ser.serialize_field("labels", &self.labels)?;
        }
        if !self.pod_name.is_empty() {
            struct_ser.serialize_field("pod_name", &self.pod_name)?;
        }
        if !self.workloads.is_empty() {
            struct_ser.serialize_field("workloads", &self.workloads)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Endpoint {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "ID",
            "identity",
            "namespace",
            "labels",
            "pod_name",
            "podName",
            "workloads",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Id,
            Identity,
            Namespace,
            Labels,
            PodName,
            Workloads,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "ID" => Ok(GeneratedField::Id),
                            "identity" => Ok(GeneratedField::Identity),
                            "namespace" => Ok(GeneratedField::Namespace),
                            "labels" => Ok(GeneratedField::Labels),
                            "podName" | "pod_name" => Ok(GeneratedField::PodName),
                            "workloads" => Ok(GeneratedField::Workloads),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Endpoint;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.Endpoint")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Endpoint, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut id__ = None;
                let mut identity__ = None;
                let mut namespace__ = None;
                let mut labels__ = None;
                let mut pod_name__ = None;
                let mut workloads__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Id => {
                            if id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ID"));
                            }
                            id__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Identity => {
                            if identity__.is_some() {
                                return Err(serde::de::Error::duplicate_field("identity"));
                            }
                            identity__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Namespace => {
                            if namespace__.is_some() {
                                return Err(serde::de::Error::duplicate_field("namespace"));
                            }
                            namespace__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Labels => {
                            if labels__.is_some() {
                                return Err(serde::de::Error::duplicate_field("labels"));
                            }
                            labels__ = Some(map_.next_value()?);
                        }
                        GeneratedField::PodName => {
                            if pod_name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("podName"));
                            }
                            pod_name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Workloads => {
                            if workloads__.is_some() {
                                return Err(serde::de::Error::duplicate_field("workloads"));
                            }
                            workloads__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Endpoint {
                    id: id__.unwrap_or_default(),
                    identity: identity__.unwrap_or_default(),
                    namespace: namespace__.unwrap_or_default(),
                    labels: labels__.unwrap_or_default(),
                    pod_name: pod_name__.unwrap_or_default(),
                    workloads: workloads__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("flow.Endpoint", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Ethernet {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.source.is_empty() {
            len += 1;
        }
        if !self.destination.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.Ethernet", len)?;
        if !self.source.is_empty() {
            struct_ser.serialize_field("source", &self.source)?;
        }
        if !self.destination.is_empty() {
            struct_ser.serialize_field("destination", &self.destination)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Ethernet {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "source",
            "destination",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Source,
            Destination,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "source" => Ok(GeneratedField::Source),
                            "destination" => Ok(GeneratedField::Destination),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Ethernet;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.Ethernet")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Ethernet, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut source__ = None;
                let mut destination__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Source => {
                            if source__.is_some() {
                                return Err(serde::de::Error::duplicate_field("source"));
                            }
                            source__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Destination => {
                            if destination__.is_some() {
                                return Err(serde::de::Error::duplicate_field("destination"));
                            }
                            destination__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Ethernet {
                    source: source__.unwrap_or_default(),
                    destination: destination__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("flow.Ethernet", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for EventTypeFilter {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.r#type != 0 {
            len += 1;
        }
        if self.match_sub_type {
            len += 1;
        }
        if self.sub_type != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.EventTypeFilter", len)?;
        if self.r#type != 0 {
            struct_ser.serialize_field("type", &self.r#type)?;
        }
        if self.match_sub_type {
            struct_ser.serialize_field("match_sub_type", &self.match_sub_type)?;
        }
        if self.sub_type != 0 {
            struct_ser.serialize_field("sub_type", &self.sub_type)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for EventTypeFilter {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "type",
            "match_sub_type",
            "matchSubType",
            "sub_type",
            "subType",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Type,
            MatchSubType,
            SubType,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "type" => Ok(GeneratedField::Type),
                            "matchSubType" | "match_sub_type" => Ok(GeneratedField::MatchSubType),
                            "subType" | "sub_type" => Ok(GeneratedField::SubType),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = EventTypeFilter;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.EventTypeFilter")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<EventTypeFilter, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut r#type__ = None;
                let mut match_sub_type__ = None;
                let mut sub_type__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Type => {
                            if r#type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("type"));
                            }
                            r#type__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::MatchSubType => {
                            if match_sub_type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("matchSubType"));
                            }
                            match_sub_type__ = Some(map_.next_value()?);
                        }
                        GeneratedField::SubType => {
                            if sub_type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("subType"));
                            }
                            sub_type__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(EventTypeFilter {
                    r#type: r#type__.unwrap_or_default(),
                    match_sub_type: match_sub_type__.unwrap_or_default(),
                    sub_type: sub_type__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("flow.EventTypeFilter", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Flow {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.time.is_some() {
            len += 1;
        }
        if !self.uuid.is_empty() {
            len += 1;
        }
        if self.verdict != 0 {
            len += 1;
        }
        if self.drop_reason != 0 {
            len += 1;
        }
        if self.auth_type != 0 {
            len += 1;
        }
        if self.ethernet.is_some() {
            len += 1;
        }
        if self.ip.is_some() {
            len += 1;
        }
        if self.l4.is_some() {
            len += 1;
        }
        if self.source.is_some() {
            len += 1;
        }
        if self.destination.is_some() {
            len += 1;
        }
        if self.r#type != 0 {
            len += 1;
        }
        if !self.node_name.is_empty() {
            len += 1;
        }
        if !self.source_names.is_empty() {
            len += 1;
        }
        if !self.destination_names.is_empty() {
            len += 1;
        }
        if self.l7.is_some() {
            len += 1;
        }
        if self.reply {
            len += 1;
        }
        if self.event_type.is_some() {
            len += 1;
        }
        if self.source_service.is_some() {
            len += 1;
        }
        if self.destination_service.is_some() {
            len += 1;
        }
        if self.traffic_direction != 0 {
            len += 1;
        }
        if self.policy_match_type != 0 {
            len += 1;
        }
        if self.trace_observation_point != 0 {
            len += 1;
        }
        if self.drop_reason_desc != 0 {
            len += 1;
        }
        if self.is_reply.is_some() {
            len += 1;
        }
        if self.interface.is_some() {
            len += 1;
        }
        if self.proxy_port != 0 {
            len += 1;
        }
        if self.trace_context.is_some() {
            len += 1;
        }
        if self.sock_xlate_point != 0 {
            len += 1;
        }
        if self.socket_cookie != 0 {
            len += 1;
        }
        if self.cgroup_id != 0 {
            len += 1;
        }
        if !self.summary.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.Flow", len)?;
        if let Some(v) = self.time.as_ref() {
            struct_ser.serialize_field("time", v)?;
        }
        if !self.uuid.is_empty() {
            struct_ser.serialize_field("uuid", &self.uuid)?;
        }
        if self.verdict != 0 {
            let v = Verdict::try_from(self.verdict)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.verdict)))?;
            struct_ser.serialize_field("verdict", &v)?;
        }
        if self.drop_reason != 0 {
            struct_ser.serialize_field("drop_reason", &self.drop_reason)?;
        }
        if self.auth_type != 0 {
            let v = AuthType::try_from(self.auth_type)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.auth_type)))?;
            struct_ser.serialize_field("auth_type", &v)?;
        }
        if let Some(v) = self.ethernet.as_ref() {
            struct_ser.serialize_field("ethernet", v)?;
        }
        if let Some(v) = self.ip.as_ref() {
            struct_ser.serialize_field("IP", v)?;
        }
        if let Some(v) = self.l4.as_ref() {
            struct_ser.serialize_field("l4", v)?;
        }
        if let Some(v) = self.source.as_ref() {
            struct_ser.serialize_field("source", v)?;
        }
        if let Some(v) = self.destination.as_ref() {
            struct_ser.serialize_field("destination", v)?;
        }
        if self.r#type != 0 {
            let v = FlowType::try_from(self.r#type)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.r#type)))?;
            struct_ser.serialize_field("Type", &v)?;
        }
        if !self.node_name.is_empty() {
            struct_ser.serialize_field("node_name", &self.node_name)?;
        }
        if !self.source_names.is_empty() {
            struct_ser.serialize_field("source_names", &self.source_names)?;
        }
        if !self.destination_names.is_empty() {
            struct_ser.serialize_field("destination_names", &self.destination_names)?;
        }
        if let Some(v) = self.l7.as_ref() {
            struct_ser.serialize_field("l7", v)?;
        }
        if self.reply {
            struct_ser.serialize_field("reply", &self.reply)?;
        }
        if let Some(v) = self.event_type.as_ref() {
            struct_ser.serialize_field("event_type", v)?;
        }
        if let Some(v) = self.source_service.as_ref() {
            struct_ser.serialize_field("source_service", v)?;
        }
        if let Some(v) = self.destination_service.as_ref() {
            struct_ser.serialize_field("destination_service", v)?;
        }
        if self.traffic_direction != 0 {
            let v = TrafficDirection::try_from(self.traffic_direction)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.traffic_direction)))?;
            struct_ser.serialize_field("traffic_direction", &v)?;
        }
        if self.policy_match_type != 0 {
            struct_ser.serialize_field("policy_match_type", &self.policy_match_type)?;
        }
        if self.trace_observation_point != 0 {
            let v = TraceObservationPoint::try_from(self.trace_observation_point)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.trace_observation_point)))?;
            struct_ser.serialize_field("trace_observation_point", &v)?;
        }
        if self.drop_reason_desc != 0 {
            let v = DropReason::try_from(self.drop_reason_desc)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.drop_reason_desc)))?;
            struct_ser.serialize_field("drop_reason_desc", &v)?;
        }
        if let Some(v) = self.is_reply.as_ref() {
            struct_ser.serialize_field("is_reply", v)?;
        }
        if let Some(v) = self.interface.as_ref() {
            struct_ser.serialize_field("interface", v)?;
        }
        if self.proxy_port != 0 {
            struct_ser.serialize_field("proxy_port", &self.proxy_port)?;
        }
        if let Some(v) = self.trace_context.as_ref() {
            struct_ser.serialize_field("trace_context", v)?;
        }
        if self.sock_xlate_point != 0 {
            let v = SocketTranslationPoint::try_from(self.sock_xlate_point)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.sock_xlate_point)))?;
            struct_ser.serialize_field("sock_xlate_point", &v)?;
        }
        if self.socket_cookie != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("socket_cookie", ToString::to_string(&self.socket_cookie).as_str())?;
        }
        if self.cgroup_id != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("cgroup_id", ToString::to_string(&self.cgroup_id).as_str())?;
        }
        if !self.summary.is_empty() {
            struct_ser.serialize_field("Summary", &self.summary)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Flow {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "time",
            "uuid",
            "verdict",
            "drop_reason",
            "dropReason",
            "auth_type",
            "authType",
            "ethernet",
            "IP",
            "l4",
            "source",
            "destination",
            "Type",
            "node_name",
            "nodeName",
            "source_names",
            "sourceNames",
            "destination_names",
            "destinationNames",
            "l7",
            "reply",
            "event_type",
            "eventType",
            "source_service",
            "sourceService",
            "destination_service",
            "destinationService",
            "traffic_direction",
            "trafficDirection",
            "policy_match_type",
            "policyMatchType",
            "trace_observation_point",
            "traceObservationPoint",
            "drop_reason_desc",
            "dropReasonDesc",
            "is_reply",
            "isReply",
            "interface",
            "proxy_port",
            "proxyPort",
            "trace_context",
            "traceContext",
            "sock_xlate_point",
            "sockXlatePoint",
            "socket_cookie",
            "socketCookie",
            "cgroup_id",
            "cgroupId",
            "Summary",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Time,
            Uuid,
            Verdict,
            DropReason,
            AuthType,
            Ethernet,
            Ip,
            L4,
            Source,
            Destination,
            Type,
            NodeName,
            SourceNames,
            DestinationNames,
            L7,
            Reply,
            EventType,
            SourceService,
            DestinationService,
            TrafficDirection,
            PolicyMatchType,
            TraceObservationPoint,
            DropReasonDesc,
            IsReply,
            Interface,
            ProxyPort,
            TraceContext,
            SockXlatePoint,
            SocketCookie,
            CgroupId,
            Summary,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "time" => Ok(GeneratedField::Time),
                            "uuid" => Ok(GeneratedField::Uuid),
                            "verdict" => Ok(GeneratedField::Verdict),
                            "dropReason" | "drop_reason" => Ok(GeneratedField::DropReason),
                            "authType" | "auth_type" => Ok(GeneratedField::AuthType),
                            "ethernet" => Ok(GeneratedField::Ethernet),
                            "IP" => Ok(GeneratedField::Ip),
                            "l4" => Ok(GeneratedField::L4),
                            "source" => Ok(GeneratedField::Source),
                            "destination" => Ok(GeneratedField::Destination),
                            "Type" => Ok(GeneratedField::Type),
                            "nodeName" | "node_name" => Ok(GeneratedField::NodeName),
                            "sourceNames" | "source_names" => Ok(GeneratedField::SourceNames),
                            "destinationNames" | "destination_names" => Ok(GeneratedField::DestinationNames),
                            "l7" => Ok(GeneratedField::L7),
                            "reply" => Ok(GeneratedField::Reply),
                            "eventType" | "event_type" => Ok(GeneratedField::EventType),
                            "sourceService" | "source_service" => Ok(GeneratedField::SourceService),
                            "destinationService" | "destination_service" => Ok(GeneratedField::DestinationService),
                            "trafficDirection" | "traffic_direction" => Ok(GeneratedField::TrafficDirection),
                            "policyMatchType" | "policy_match_type" => Ok(GeneratedField::PolicyMatchType),
                            "traceObservationPoint" | "trace_observation_point" => Ok(GeneratedField::TraceObservationPoint),
                            "dropReasonDesc" | "drop_reason_desc" => Ok(GeneratedField::DropReasonDesc),
                            "isReply" | "is_reply" => Ok(GeneratedField::IsReply),
                            "interface" => Ok(GeneratedField::Interface),
                            "proxyPort" | "proxy_port" => Ok(GeneratedField::ProxyPort),
                            "traceContext" | "trace_context" => Ok(GeneratedField::TraceContext),
                            "sockXlatePoint" | "sock_xlate_point" => Ok(GeneratedField::SockXlatePoint),
                            "socketCookie" | "socket_cookie" => Ok(GeneratedField::SocketCookie),
                            "cgroupId" | "cgroup_id" => Ok(GeneratedField::CgroupId),
                            "Summary" => Ok(GeneratedField::Summary),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Flow;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.Flow")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Flow, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut time__ = None;
                let mut uuid__ = None;
                let mut verdict__ = None;
                let mut drop_reason__ = None;
                let mut auth_type__ = None;
                let mut ethernet__ = None;
                let mut ip__ = None;
                let mut l4__ = None;
                let mut source__ = None;
                let mut destination__ = None;
                let mut r#type__ = None;
                let mut node_name__ = None;
                let mut source_names__ = None;
                let mut destination_names__ = None;
                let mut l7__ = None;
                let mut reply__ = None;
                let mut event_type__ = None;
                let mut source_service__ = None;
                let mut destination_service__ = None;
                let mut traffic_direction__ = None;
                let mut policy_match_type__ = None;
                let mut trace_observation_point__ = None;
                let mut drop_reason_desc__ = None;
                let mut is_reply__ = None;
                let mut interface__ = None;
                let mut proxy_port__ = None;
                let mut trace_context__ = None;
                let mut sock_xlate_point__ = None;
                let mut socket_cookie__ = None;
                let mut cgroup_id__ = None;
                let mut summary__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Time => {
                            if time__.is_some() {
                                return Err(serde::de::Error::duplicate_field("time"));
                            }
                            time__ = map_.next_value()?;
                        }
                        GeneratedField::Uuid => {
                            if uuid__.is_some() {
                                return Err(serde::de::Error::duplicate_field("uuid"));
                            }
                            uuid__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Verdict => {
                            if verdict__.is_some() {
                                return Err(serde::de::Error::duplicate_field("verdict"));
                            }
                            verdict__ = Some(map_.next_value::<Verdict>()? as i32);
                        }
                        GeneratedField::DropReason => {
                            if drop_reason__.is_some() {
                                return Err(serde::de::Error::duplicate_field("dropReason"));
                            }
                            drop_reason__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::AuthType => {
                            if auth_type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("authType"));
                            }
                            auth_type__ = Some(map_.next_value::<AuthType>()? as i32);
                        }
                        GeneratedField::Ethernet => {
                            if ethernet__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ethernet"));
                            }
                            ethernet__ = map_.next_value()?;
                        }
                        GeneratedField::Ip => {
                            if ip__.is_some() {
                                return Err(serde::de::Error::duplicate_field("IP"));
                            }
                            ip__ = map_.next_value()?;
                        }
                        GeneratedField::L4 => {
                            if l4__.is_some() {
                                return Err(serde::de::Error::duplicate_field("l4"));
                            }
                            l4__ = map_.next_value()?;
                        }
                        GeneratedField::Source => {
                            if source__.is_some() {
                                return Err(serde::de::Error::duplicate_field("source"));
                            }
                            source__ = map_.next_value()?;
                        }
                        GeneratedField::Destination => {
                            if destination__.is_some() {
                                return Err(serde::de::Error::duplicate_field("destination"));
                            }
                            destination__ = map_.next_value()?;
                        }
                        GeneratedField::Type => {
                            if r#type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("Type"));
                            }
                            r#type__ = Some(map_.next_value::<FlowType>()? as i32);
                        }
                        GeneratedField::NodeName => {
                            if node_name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nodeName"));
                            }
                            node_name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::SourceNames => {
                            if source_names__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sourceNames"));
                            }
                            source_names__ = Some(map_.next_value()?);
                        }
                        GeneratedField::DestinationNames => {
                            if destination_names__.is_some() {
                                return Err(serde::de::Error::duplicate_field("destinationNames"));
                            }
                            destination_names__ = Some(map_.next_value()?);
                        }
                        GeneratedField::L7 => {
                            if l7__.is_some() {
                                return Err(serde::de::Error::duplicate_field("l7"));
                            }
                            l7__ = map_.next_value()?;
                        }
                        GeneratedField::Reply => {
                            if reply__.is_some() {
                                return Err(serde::de::Error::duplicate_field("reply"));
                            }
                            reply__ = Some(map_.next_value()?);
                        }
                        GeneratedField::EventType => {
                            if event_type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("eventType"));
                            }
                            event_type__ = map_.next_value()?;
                        }
                        GeneratedField::SourceService => {
                            if source_service__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sourceService"));
                            }
                            source_service__ = map_.next_value()?;
                        }
                        GeneratedField::DestinationService => {
                            if destination_service__.is_some() {
                                return Err(serde::de::Error::duplicate_field("destinationService"));
                            }
                            destination_service__ = map_.next_value()?;
                        }
                        GeneratedField::TrafficDirection => {
                            if traffic_direction__.is_some() {
                                return Err(serde::de::Error::duplicate_field("trafficDirection"));
                            }
                            traffic_direction__ = Some(map_.next_value::<TrafficDirection>()? as i32);
                        }
                        GeneratedField::PolicyMatchType => {
                            if policy_match_type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("policyMatchType"));
                            }
                            policy_match_type__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::TraceObservationPoint => {
                            if trace_observation_point__.is_some() {
                                return Err(serde::de::Error::duplicate_field("traceObservationPoint"));
                            }
                            trace_observation_point__ = Some(map_.next_value::<TraceObservationPoint>()? as i32);
                        }
                        GeneratedField::DropReasonDesc => {
                            if drop_reason_desc__.is_some() {
                                return Err(serde::de::Error::duplicate_field("dropReasonDesc"));
                            }
                            drop_reason_desc__ = Some(map_.next_value::<DropReason>()? as i32);
                        }
                        GeneratedField::IsReply => {
                            if is_reply__.is_some() {
                                return Err(serde::de::Error::duplicate_field("isReply"));
                            }
                            is_reply__ = map_.next_value()?;
                        }
                        GeneratedField::Interface => {
                            if interface__.is_some() {
                                return Err(serde::de::Error::duplicate_field("interface"));
                            }
                            interface__ = map_.next_value()?;
                        }
                        GeneratedField::ProxyPort => {
                            if proxy_port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("proxyPort"));
                            }
                            proxy_port__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::TraceContext => {
                            if trace_context__.is_some() {
                                return Err(serde::de::Error::duplicate_field("traceContext"));
                            }
                            trace_context__ = map_.next_value()?;
                        }
                        GeneratedField::SockXlatePoint => {
                            if sock_xlate_point__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sockXlatePoint"));
                            }
                            sock_xlate_point__ = Some(map_.next_value::<SocketTranslationPoint>()? as i32);
                        }
                        GeneratedField::SocketCookie => {
                            if socket_cookie__.is_some() {
                                return Err(serde::de::Error::duplicate_field("socketCookie"));
                            }
                            socket_cookie__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::CgroupId => {
                            if cgroup_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("cgroupId"));
                            }
                            cgroup_id__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Summary => {
                            if summary__.is_some() {
                                return Err(serde::de::Error::duplicate_field("Summary"));
                            }
                            summary__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Flow {
                    time: time__,
                    uuid: uuid__.unwrap_or_default(),
                    verdict: verdict__.unwrap_or_default(),
                    drop_reason: drop_reason__.unwrap_or_default(),
                    auth_type: auth_type__.unwrap_or_default(),
                    ethernet: ethernet__,
                    ip: ip__,
                    l4: l4__,
                    source: source__,
                    destination: destination__,
                    r#type: r#type__.unwrap_or_default(),
                    node_name: node_name__.unwrap_or_default(),
                    source_names: source_names__.unwrap_or_default(),
                    destination_names: destination_names__.unwrap_or_default(),
                    l7: l7__,
                    reply: reply__.unwrap_or_default(),
                    event_type: event_type__,
                    source_service: source_service__,
                    destination_service: destination_service__,
                    traffic_direction: traffic_direction__.unwrap_or_default(),
                    policy_match_type: policy_match_type__.unwrap_or_default(),
                    trace_observation_point: trace_observation_point__.unwrap_or_default(),
                    drop_reason_desc: drop_reason_desc__.unwrap_or_default(),
                    is_reply: is_reply__,
                    interface: interface__,
                    proxy_port: proxy_port__.unwrap_or_default(),
                    trace_context: trace_context__,
                    sock_xlate_point: sock_xlate_point__.unwrap_or_default(),
                    socket_cookie: socket_cookie__.unwrap_or_default(),
                    cgroup_id: cgroup_id__.unwrap_or_default(),
                    summary: summary__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("flow.Flow", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for FlowFilter {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.uuid.is_empty() {
            len += 1;
        }
        if !self.source_ip.is_empty() {
            len += 1;
        }
        if !self.source_pod.is_empty() {
            len += 1;
        }
        if !self.source_fqdn.is_empty() {
            len += 1;
        }
        if !self.source_label.is_empty() {
            len += 1;
        }
        if !self.source_service.is_empty() {
            len += 1;
        }
        if !self.source_workload.is_empty() {
            len += 1;
        }
        if !self.destination_ip.is_empty() {
            len += 1;
        }
        if !self.destination_pod.is_empty() {
            len += 1;
        }
        if !self.destination_fqdn.is_empty() {
            len += 1;
        }
        if !self.destination_label.is_empty() {
            len += 1;
        }
        if !self.destination_service.is_empty() {
            len += 1;
        }
        if !self.destination_workload.is_empty() {
            len += 1;
        }
        if !self.traffic_direction.is_empty() {
            len += 1;
        }
        if !self.verdict.is_empty() {
            len += 1;
        }
        if !self.event_type.is_empty() {
            len += 1;
        }
        if !self.http_status_code.is_empty() {
            len += 1;
        }
        if !self.protocol.is_empty() {
            len += 1;
        }
        if !self.source_port.is_empty() {
            len += 1;
        }
        if !self.destination_port.is_empty() {
            len += 1;
        }
        if !self.reply.is_empty() {
            len += 1;
        }
        if !self.dns_query.is_empty() {
            len += 1;
        }
        if !self.source_identity.is_empty() {
            len += 1;
        }
        if !self.destination_identity.is_empty() {
            len += 1;
        }
        if !self.http_method.is_empty() {
            len += 1;
        }
        if !self.http_path.is_empty() {
            len += 1;
        }
        if !self.tcp_flags.is_empty() {
            len += 1;
        }
        if !self.node_name.is_empty() {
            len += 1;
        }
        if !self.ip_version.is_empty() {
            len += 1;
        }
        if !self.trace_id.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.FlowFilter", len)?;
        if !self.uuid.is_empty() {
            struct_ser.serialize_field("uuid", &self.uuid)?;
        }
        if !self.source_ip.is_empty() {
            struct_ser.serialize_field("source_ip", &self.source_ip)?;
        }
        if !self.source_pod.is_empty() {
            struct_ser.serialize_field("source_pod", &self.source_pod)?;
        }
        if !self.source_fqdn.is_empty() {
            struct_ser.serialize_field("source_fqdn", &self.source_fqdn)?;
        }
        if !self.source_label.is_empty() {
            struct_ser.serialize_field("source_label", &self.source_label)?;
        }
        if !self.source_service.is_empty() {
            struct_ser.serialize_field("source_service", &self.source_service)?;
        }
        if !self.source_workload.is_empty() {
            struct_ser.serialize_field("source_workload", &self.source_workload)?;
        }
        if !self.destination_ip.is_empty() {
            struct_ser.serialize_field("destination_ip", &self.destination_ip)?;
        }
        if !self.destination_pod.is_empty() {
            struct_ser.serialize_field("destination_pod", &self.destination_pod)?;
        }
        if !self.destination_fqdn.is_empty() {
            struct_ser.serialize_field("destination_fqdn", &self.destination_fqdn)?;
        }
        if !self.destination_label.is_empty() {
            struct_ser.serialize_field("destination_label", &self.destination_label)?;
        }
        if !self.destination_service.is_empty() {
            struct_ser.serialize_field("destination_service", &self.destination_service)?;
        }
        if !self.destination_workload.is_empty() {
            struct_ser.serialize_field("destination_workload", &self.destination_workload)?;
        }
        if !self.traffic_direction.is_empty() {
            let v = self.traffic_direction.iter().cloned().map(|v| {
                TrafficDirection::try_from(v)
                    .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", v)))
                }).collect::<std::result::Result<Vec<_>, _>>()?;
            struct_ser.serialize_field("traffic_direction", &v)?;
        }
        if !self.verdict.is_empty() {
            let v = self.verdict.iter().cloned().map(|v| {
                Verdict::try_from(v)
                    .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", v)))
                }).collect::<std::result::Result<Vec<_>, _>>()?;
            struct_ser.serialize_field("verdict", &v)?;
        }
        if !self.event_type.is_empty() {
            struct_ser.serialize_field("event_type", &self.event_type)?;
        }
        if !self.http_status_code.is_empty() {
            struct_ser.serialize_field("http_status_code", &self.http_status_code)?;
        }
        if !self.protocol.is_empty() {
            struct_ser.serialize_field("protocol", &self.protocol)?;
        }
        if !self.source_port.is_empty() {
            struct_ser.serialize_field("source_port", &self.source_port)?;
        }
        if !self.destination_port.is_empty() {
            struct_ser.serialize_field("destination_port", &self.destination_port)?;
        }
        if !self.reply.is_empty() {
            struct_ser.serialize_field("reply", &self.reply)?;
        }
        if !self.dns_query.is_empty() {
            struct_ser.serialize_field("dns_query", &self.dns_query)?;
        }
        if !self.source_identity.is_empty() {
            struct_ser.serialize_field("source_identity", &self.source_identity)?;
        }
        if !self.destination_identity.is_empty() {
            struct_ser.serialize_field("destination_identity", &self.destination_identity)?;
        }
        if !self.http_method.is_empty() {
            struct_ser.serialize_field("http_method", &self.http_method)?;
        }
        if !self.http_path.is_empty() {
            struct_ser.serialize_field("http_path", &self.http_path)?;
        }
        if !self.tcp_flags.is_empty() {
            struct_ser.serialize_field("tcp_flags", &self.tcp_flags)?;
        }
        if !self.node_name.is_empty() {
            struct_ser.serialize_field("node_name", &self.node_name)?;
        }
        if !self.ip_version.is_empty() {
            let v = self.ip_version.iter().cloned().map(|v| {
                IpVersion::try_from(v)
                    .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", v)))
                }).collect::<std::result::Result<Vec<_>, _>>()?;
            struct_ser.serialize_field("ip_version", &v)?;
        }
        if !self.trace_id.is_empty() {
            struct_ser.serialize_field("trace_id", &self.trace_id)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for FlowFilter {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "uuid",
            "source_ip",
            "sourceIp",
            "source_pod",
            "sourcePod",
            "source_fqdn",
            "sourceFqdn",
            "source_label",
            "sourceLabel",
            "source_service",
            "sourceService",
            "source_workload",
            "sourceWorkload",
            "destination_ip",
            "destinationIp",
            "destination_pod",
            "destinationPod",
            "destination_fqdn",
            "destinationFqdn",
            "destination_label",
            "destinationLabel",
            "destination_service",
            "destinationService",
            "destination_workload",
            "destinationWorkload",
            "traffic_direction",
            "trafficDirection",
            "verdict",
            "event_type",
            "eventType",
            "http_status_code",
            "httpStatusCode",
            "protocol",
            "source_port",
            "sourcePort",
            "destination_port",
            "destinationPort",
            "reply",
            "dns_query",
            "dnsQuery",
            "source_identity",
            "sourceIdentity",
            "destination_identity",
            "destinationIdentity",
            "http_method",
            "httpMethod",
            "http_path",
            "httpPath",
            "tcp_flags",
            "tcpFlags",
            "node_name",
            "nodeName",
            "ip_version",
            "ipVersion",
            "trace_id",
            "traceId",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Uuid,
            SourceIp,
            SourcePod,
            SourceFqdn,
            SourceLabel,
            SourceService,
            SourceWorkload,
            DestinationIp,
            DestinationPod,
            DestinationFqdn,
            DestinationLabel,
            DestinationService,
            DestinationWorkload,
            TrafficDirection,
            Verdict,
            EventType,
            HttpStatusCode,
            Protocol,
            SourcePort,
            DestinationPort,
            Reply,
            DnsQuery,
            SourceIdentity,
            DestinationIdentity,
            HttpMethod,
            HttpPath,
            TcpFlags,
            NodeName,
            IpVersion,
            TraceId,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "uuid" => Ok(GeneratedField::Uuid),
                            "sourceIp" | "source_ip" => Ok(GeneratedField::SourceIp),
                            "sourcePod" | "source_pod" => Ok(GeneratedField::SourcePod),
                            "sourceFqdn" | "source_fqdn" => Ok(GeneratedField::SourceFqdn),
                            "sourceLabel" | "source_label" => Ok(GeneratedField::SourceLabel),
                            "sourceService" | "source_service" => Ok(GeneratedField::SourceService),
                            "sourceWorkload" | "source_workload" => Ok(GeneratedField::SourceWorkload),
                            "destinationIp" | "destination_ip" => Ok(GeneratedField::DestinationIp),
                            "destinationPod" | "destination_pod" => Ok(GeneratedField::DestinationPod),
                            "destinationFqdn" | "destination_fqdn" => Ok(GeneratedField::DestinationFqdn),
                            "destinationLabel" | "destination_label" => Ok(GeneratedField::DestinationLabel),
                            "destinationService" | "destination_service" => Ok(GeneratedField::DestinationService),
                            "destinationWorkload" | "destination_workload" => Ok(GeneratedField::DestinationWorkload),
                            "trafficDirection" | "traffic_direction" => Ok(GeneratedField::TrafficDirection),
                            "verdict" => Ok(GeneratedField::Verdict),
                            "eventType" | "event_type" => Ok(GeneratedField::EventType),
                            "httpStatusCode" | "http_status_code" => Ok(GeneratedField::HttpStatusCode),
                            "protocol" => Ok(GeneratedField::Protocol),
                            "sourcePort" | "source_port" => Ok(GeneratedField::SourcePort),
                            "destinationPort" | "destination_port" => Ok(GeneratedField::DestinationPort),
                            "reply" => Ok(GeneratedField::Reply),
                            "dnsQuery" | "dns_query" => Ok(GeneratedField::DnsQuery),
                            "sourceIdentity" | "source_identity" => Ok(GeneratedField::SourceIdentity),
                            "destinationIdentity" | "destination_identity" => Ok(GeneratedField::DestinationIdentity),
                            "httpMethod" | "http_method" => Ok(GeneratedField::HttpMethod),
                            "httpPath" | "http_path" => Ok(GeneratedField::HttpPath),
                            "tcpFlags" | "tcp_flags" => Ok(GeneratedField::TcpFlags),
                            "nodeName" | "node_name" => Ok(GeneratedField::NodeName),
                            "ipVersion" | "ip_version" => Ok(GeneratedField::IpVersion),
                            "traceId" | "trace_id" => Ok(GeneratedField::TraceId),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = FlowFilter;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.FlowFilter")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<FlowFilter, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut uuid__ = None;
                let mut source_ip__ = None;
                let mut source_pod__ = None;
                let mut source_fqdn__ = None;
                let mut source_label__ = None;
                let mut source_service__ = None;
                let mut source_workload__ = None;
                let mut destination_ip__ = None;
                let mut destination_pod__ = None;
                let mut destination_fqdn__ = None;
                let mut destination_label__ = None;
                let mut destination_service__ = None;
                let mut destination_workload__ = None;
                let mut traffic_direction__ = None;
                let mut verdict__ = None;
                let mut event_type__ = None;
                let mut http_status_code__ = None;
                let mut protocol__ = None;
                let mut source_port__ = None;
                let mut destination_port__ = None;
                let mut reply__ = None;
                let mut dns_query__ = None;
                let mut source_identity__ = None;
                let mut destination_identity__ = None;
                let mut http_method__ = None;
                let mut http_path__ = None;
                let mut tcp_flags__ = None;
                let mut node_name__ = None;
                let mut ip_version__ = None;
                let mut trace_id__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Uuid => {
                            if uuid__.is_some() {
                                return Err(serde::de::Error::duplicate_field("uuid"));
                            }
                            uuid__ = Some(map_.next_value()?);
                        }
                        GeneratedField::SourceIp => {
                            if source_ip__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sourceIp"));
                            }
                            source_ip__ = Some(map_.next_value()?);
                        }
                        GeneratedField::SourcePod => {
                            if source_pod__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sourcePod"));
                            }
                            source_pod__ = Some(map_.next_value()?);
                        }
                        GeneratedField::SourceFqdn => {
                            if source_fqdn__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sourceFqdn"));
                            }
                            source_fqdn__ = Some(map_.next_value()?);
                        }
                        GeneratedField::SourceLabel => {
                            if source_label__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sourceLabel"));
                            }
                            source_label__ = Some(map_.next_value()?);
                        }
                        GeneratedField::SourceService => {
                            if source_service__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sourceService"));
                            }
                            source_service__ = Some(map_.next_value()?);
                        }
                        GeneratedField::SourceWorkload => {
                            if source_workload__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sourceWorkload"));
                            }
                            source_workload__ = Some(map_.next_value()?);
                        }
                        GeneratedField::DestinationIp => {
                            if destination_ip__.is_some() {
                                return Err(serde::de::Error::duplicate_field("destinationIp"));
                            }
                            destination_ip__ = Some(map_.next_value()?);
                        }
                        GeneratedField::DestinationPod => {
                            if destination_pod__.is_some() {
                                return Err(serde::de::Error::duplicate_field("destinationPod"));
                            }
                            destination_pod__ = Some(map_.next_value()?);
                        }
                        GeneratedField::DestinationFqdn => {
                            if destination_fqdn__.is_some() {
                                return Err(serde::de::Error::duplicate_field("destinationFqdn"));
                            }
                            destination_fqdn__ = Some(map_.next_value()?);
                        }
                        GeneratedField::DestinationLabel => {
                            if destination_label__.is_some() {
                                return Err(serde::de::Error::duplicate_field("destinationLabel"));
                            }
                            destination_label__ = Some(map_.next_value()?);
                        }
                        GeneratedField::DestinationService => {
                            if destination_service__.is_some() {
                                return Err(serde::de::Error::duplicate_field("destinationService"));
                            }
                            destination_service__ = Some(map_.next_value()?);
                        }
                        GeneratedField::DestinationWorkload => {
                            if destination_workload__.is_some() {
                                return Err(serde::de::Error::duplicate_field("destinationWorkload"));
                            }
                            destination_workload__ = Some(map_.next_value()?);
                        }
                        GeneratedField::TrafficDirection => {
                            if traffic_direction__.is_some() {
                                return Err(serde::de::Error::duplicate_field("trafficDirection"));
                            }
                            traffic_direction__ = Some(map_.next_value::<Vec<TrafficDirection>>()?.into_iter().map(|x| x as i32).collect());
                        }
                        GeneratedField::Verdict => {
                            if verdict__.is_some() {
                                return Err(serde::de::Error::duplicate_field("verdict"));
                            }
                            verdict__ = Some(map_.next_value::<Vec<Verdict>>()?.into_iter().map(|x| x as i32).collect());
                        }
                        GeneratedField::EventType => {
                            if event_type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("eventType"));
                            }
                            event_type__ = Some(map_.next_value()?);
                        }
                        GeneratedField::HttpStatusCode => {
                            if http_status_code__.is_some() {
                                return Err(serde::de::Error::duplicate_field("httpStatusCode"));
                            }
                            http_status_code__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Protocol => {
                            if protocol__.is_some() {
                                return Err(serde::de::Error::duplicate_field("protocol"));
                            }
                            protocol__ = Some(map_.next_value()?);
                        }
                        GeneratedField::SourcePort => {
                            if source_port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sourcePort"));
                            }
                            source_port__ = Some(map_.next_value()?);
                        }
                        GeneratedField::DestinationPort => {
                            if destination_port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("destinationPort"));
                            }
                            destination_port__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Reply => {
                            if reply__.is_some() {
                                return Err(serde::de::Error::duplicate_field("reply"));
                            }
                            reply__ = Some(map_.next_value()?);
                        }
                        GeneratedField::DnsQuery => {
                            if dns_query__.is_some() {
                                return Err(serde::de::Error::duplicate_field("dnsQuery"));
                            }
                            dns_query__ = Some(map_.next_value()?);
                        }
                        GeneratedField::SourceIdentity => {
                            if source_identity__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sourceIdentity"));
                            }
                            source_identity__ = 
                                Some(map_.next_value::<Vec<::pbjson::private::NumberDeserialize<_>>>()?
                                    .into_iter().map(|x| x.0).collect())
                            ;
                        }
                        GeneratedField::DestinationIdentity => {
                            if destination_identity__.is_some() {
                                return Err(serde::de::Error::duplicate_field("destinationIdentity"));
                            }
                            destination_identity__ = 
                                Some(map_.next_value::<Vec<::pbjson::private::NumberDeserialize<_>>>()?
                                    .into_iter().map(|x| x.0).collect())
                            ;
                        }
                        GeneratedField::HttpMethod => {
                            if http_method__.is_some() {
                                return Err(serde::de::Error::duplicate_field("httpMethod"));
                            }
                            http_method__ = Some(map_.next_value()?);
                        }
                        GeneratedField::HttpPath => {
                            if http_path__.is_some() {
                                return Err(serde::de::Error::duplicate_field("httpPath"));
                            }
                            http_path__ = Some(map_.next_value()?);
                        }
                        GeneratedField::TcpFlags => {
                            if tcp_flags__.is_some() {
                                return Err(serde::de::Error::duplicate_field("tcpFlags"));
                            }
                            tcp_flags__ = Some(map_.next_value()?);
                        }
                        GeneratedField::NodeName => {
                            if node_name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nodeName"));
                            }
                            node_name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::IpVersion => {
                            if ip_version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ipVersion"));
                            }
                            ip_version__ = Some(map_.next_value::<Vec<IpVersion>>()?.into_iter().map(|x| x as i32).collect());
                        }
                        GeneratedField::TraceId => {
                            if trace_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("traceId"));
                            }
                            trace_id__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(FlowFilter {
                    uuid: uuid__.unwrap_or_default(),
                    source_ip: source_ip__.unwrap_or_default(),
                    source_pod: source_pod__.unwrap_or_default(),
                    source_fqdn: source_fqdn__.unwrap_or_default(),
                    source_label: source_label__.unwrap_or_default(),
                    source_service: source_service__.unwrap_or_default(),
                    source_workload: source_workload__.unwrap_or_default(),
                    destination_ip: destination_ip__.unwrap_or_default(),
                    destination_pod: destination_pod__.unwrap_or_default(),
                    destination_fqdn: destination_fqdn__.unwrap_or_default(),
                    destination_label: destination_label__.unwrap_or_default(),
                    destination_service: destination_service__.unwrap_or_default(),
                    destination_workload: destination_workload__.unwrap_or_default(),
                    traffic_direction: traffic_direction__.unwrap_or_default(),
                    verdict: verdict__.unwrap_or_default(),
                    event_type: event_type__.unwrap_or_default(),
                    http_status_code: http_status_code__.unwrap_or_default(),
                    protocol: protocol__.unwrap_or_default(),
                    source_port: source_port__.unwrap_or_default(),
                    destination_port: destination_port__.unwrap_or_default(),
                    reply: reply__.unwrap_or_default(),
                    dns_query: dns_query__.unwrap_or_default(),
                    source_identity: source_identity__.unwrap_or_default(),
                    destination_identity: destination_identity__.unwrap_or_default(),
                    http_method: http_method__.unwrap_or_default(),
                    http_path: http_path__.unwrap_or_default(),
                    tcp_flags: tcp_flags__.unwrap_or_default(),
                    node_name: node_name__.unwrap_or_default(),
                    ip_version: ip_version__.unwrap_or_default(),
                    trace_id: trace_id__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("flow.FlowFilter", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for FlowType {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::UnknownType => "UNKNOWN_TYPE",
            Self::L3L4 => "L3_L4",
            Self::L7 => "L7",
            Self::Sock => "SOCK",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for FlowType {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "UNKNOWN_TYPE",
            "L3_L4",
            "L7",
            "SOCK",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = FlowType;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "UNKNOWN_TYPE" => Ok(FlowType::UnknownType),
                    "L3_L4" => Ok(FlowType::L3L4),
                    "L7" => Ok(FlowType::L7),
                    "SOCK" => Ok(FlowType::Sock),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for Http {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.code != 0 {
            len += 1;
        }
        if !self.method.is_empty() {
            len += 1;
        }
        if !self.url.is_empty() {
            len += 1;
        }
        if !self.protocol.is_empty() {
            len += 1;
        }
        if !self.headers.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.HTTP", len)?;
        if self.code != 0 {
            struct_ser.serialize_field("code", &self.code)?;
        }
        if !self.method.is_empty() {
            struct_ser.serialize_field("method", &self.method)?;
        }
        if !self.url.is_empty() {
            struct_ser.serialize_field("url", &self.url)?;
        }
        if !self.protocol.is_empty() {
            struct_ser.serialize_field("protocol", &self.protocol)?;
        }
        if !self.headers.is_empty() {
            struct_ser.serialize_field("headers", &self.headers)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Http {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "code",
            "method",
            "url",
            "protocol",
            "headers",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Code,
            Method,
            Url,
            Protocol,
            Headers,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "code" => Ok(GeneratedField::Code),
                            "method" => Ok(GeneratedField::Method),
                            "url" => Ok(GeneratedField::Url),
                            "protocol" => Ok(GeneratedField::Protocol),
                            "headers" => Ok(GeneratedField::Headers),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Http;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.HTTP")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Http, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut code__ = None;
                let mut method__ = None;
                let mut url__ = None;
                let mut protocol__ = None;
                let mut headers__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Code => {
                            if code__.is_some() {
                                return Err(serde::de::Error::duplicate_field("code"));
                            }
                            code__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Method => {
                            if method__.is_some() {
                                return Err(serde::de::Error::duplicate_field("method"));
                            }
                            method__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Url => {
                            if url__.is_some() {
                                return Err(serde::de::Error::duplicate_field("url"));
                            }
                            url__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Protocol => {
                            if protocol__.is_some() {
                                return Err(serde::de::Error::duplicate_field("protocol"));
                            }
                            protocol__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Headers => {
                            if headers__.is_some() {
                                return Err(serde::de::Error::duplicate_field("headers"));
                            }
                            headers__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Http {
                    code: code__.unwrap_or_default(),
                    method: method__.unwrap_or_default(),
                    url: url__.unwrap_or_default(),
                    protocol: protocol__.unwrap_or_default(),
                    headers: headers__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("flow.HTTP", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for HttpHeader {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.key.is_empty() {
            len += 1;
        }
        if !self.value.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.HTTPHeader", len)?;
        if !self.key.is_empty() {
            struct_ser.serialize_field("key", &self.key)?;
        }
        if !self.value.is_empty() {
            struct_ser.serialize_field("value", &self.value)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for HttpHeader {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "key",
            "value",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Key,
            Value,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "key" => Ok(GeneratedField::Key),
                            "value" => Ok(GeneratedField::Value),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = HttpHeader;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.HTTPHeader")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<HttpHeader, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut key__ = None;
                let mut value__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Key => {
                            if key__.is_some() {
                                return Err(serde::de::Error::duplicate_field("key"));
                            }
                            key__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Value => {
                            if value__.is_some() {
                                return Err(serde::de::Error::duplicate_field("value"));
                            }
                            value__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(HttpHeader {
                    key: key__.unwrap_or_default(),
                    value: value__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("flow.HTTPHeader", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for IcmPv4 {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.r#type != 0 {
            len += 1;
        }
        if self.code != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.ICMPv4", len)?;
        if self.r#type != 0 {
            struct_ser.serialize_field("type", &self.r#type)?;
        }
        if self.code != 0 {
            struct_ser.serialize_field("code", &self.code)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for IcmPv4 {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "type",
            "code",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Type,
            Code,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "type" => Ok(GeneratedField::Type),
                            "code" => Ok(GeneratedField::Code),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = IcmPv4;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.ICMPv4")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<IcmPv4, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut r#type__ = None;
                let mut code__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Type => {
                            if r#type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("type"));
                            }
                            r#type__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Code => {
                            if code__.is_some() {
                                return Err(serde::de::Error::duplicate_field("code"));
                            }
                            code__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(IcmPv4 {
                    r#type: r#type__.unwrap_or_default(),
                    code: code__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("flow.ICMPv4", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for IcmPv6 {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.r#type != 0 {
            len += 1;
        }
        if self.code != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.ICMPv6", len)?;
        if self.r#type != 0 {
            struct_ser.serialize_field("type", &self.r#type)?;
        }
        if self.code != 0 {
            struct_ser.serialize_field("code", &self.code)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for IcmPv6 {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "type",
            "code",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Type,
            Code,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "type" => Ok(GeneratedField::Type),
                            "code" => Ok(GeneratedField::Code),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = IcmPv6;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.ICMPv6")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<IcmPv6, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut r#type__ = None;
                let mut code__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Type => {
                            if r#type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("type"));
                            }
                            r#type__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Code => {
                            if code__.is_some() {
                                return Err(serde::de::Error::duplicate_field("code"));
                            }
                            code__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(IcmPv6 {
                    r#type: r#type__.unwrap_or_default(),
                    code: code__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("flow.ICMPv6", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Ip {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.source.is_empty() {
            len += 1;
        }
        if !self.destination.is_empty() {
            len += 1;
        }
        if self.ip_version != 0 {
            len += 1;
        }
        if self.encrypted {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.IP", len)?;
        if !self.source.is_empty() {
            struct_ser.serialize_field("source", &self.source)?;
        }
        if !self.destination.is_empty() {
            struct_ser.serialize_field("destination", &self.destination)?;
        }
        if self.ip_version != 0 {
            let v = IpVersion::try_from(self.ip_version)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.ip_version)))?;
            struct_ser.serialize_field("ipVersion", &v)?;
        }
        if self.encrypted {
            struct_ser.serialize_field("encrypted", &self.encrypted)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Ip {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "source",
            "destination",
            "ipVersion",
            "encrypted",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Source,
            Destination,
            IpVersion,
            Encrypted,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "source" => Ok(GeneratedField::Source),
                            "destination" => Ok(GeneratedField::Destination),
                            "ipVersion" => Ok(GeneratedField::IpVersion),
                            "encrypted" => Ok(GeneratedField::Encrypted),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Ip;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.IP")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Ip, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut source__ = None;
                let mut destination__ = None;
                let mut ip_version__ = None;
                let mut encrypted__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Source => {
                            if source__.is_some() {
                                return Err(serde::de::Error::duplicate_field("source"));
                            }
                            source__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Destination => {
                            if destination__.is_some() {
                                return Err(serde::de::Error::duplicate_field("destination"));
                            }
                            destination__ = Some(map_.next_value()?);
                        }
                        GeneratedField::IpVersion => {
                            if ip_version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ipVersion"));
                            }
                            ip_version__ = Some(map_.next_value::<IpVersion>()? as i32);
                        }
                        GeneratedField::Encrypted => {
                            if encrypted__.is_some() {
                                return Err(serde::de::Error::duplicate_field("encrypted"));
                            }
                            encrypted__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Ip {
                    source: source__.unwrap_or_default(),
                    destination: destination__.unwrap_or_default(),
                    ip_version: ip_version__.unwrap_or_default(),
                    encrypted: encrypted__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("flow.IP", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for IpVersion {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::IpNotUsed => "IP_NOT_USED",
            Self::IPv4 => "IPv4",
            Self::IPv6 => "IPv6",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for IpVersion {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "IP_NOT_USED",
            "IPv4",
            "IPv6",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = IpVersion;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "IP_NOT_USED" => Ok(IpVersion::IpNotUsed),
                    "IPv4" => Ok(IpVersion::IPv4),
                    "IPv6" => Ok(IpVersion::IPv6),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for Kafka {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.error_code != 0 {
            len += 1;
        }
        if self.api_version != 0 {
            len += 1;
        }
        if !self.api_key.is_empty() {
            len += 1;
        }
        if self.correlation_id != 0 {
            len += 1;
        }
        if !self.topic.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.Kafka", len)?;
        if self.error_code != 0 {
            struct_ser.serialize_field("error_code", &self.error_code)?;
        }
        if self.api_version != 0 {
            struct_ser.serialize_field("api_version", &self.api_version)?;
        }
        if !self.api_key.is_empty() {
            struct_ser.serialize_field("api_key", &self.api_key)?;
        }
        if self.correlation_id != 0 {
            struct_ser.serialize_field("correlation_id", &self.correlation_id)?;
        }
        if !self.topic.is_empty() {
            struct_ser.serialize_field("topic", &self.topic)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Kafka {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "error_code",
            "errorCode",
            "api_version",
            "apiVersion",
            "api_key",
            "apiKey",
            "correlation_id",
            "correlationId",
            "topic",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            ErrorCode,
            ApiVersion,
            ApiKey,
            CorrelationId,
            Topic,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "errorCode" | "error_code" => Ok(GeneratedField::ErrorCode),
                            "apiVersion" | "api_version" => Ok(GeneratedField::ApiVersion),
                            "apiKey" | "api_key" => Ok(GeneratedField::ApiKey),
                            "correlationId" | "correlation_id" => Ok(GeneratedField::CorrelationId),
                            "topic" => Ok(GeneratedField::Topic),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Kafka;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.Kafka")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Kafka, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut error_code__ = None;
                let mut api_version__ = None;
                let mut api_key__ = None;
                let mut correlation_id__ = None;
                let mut topic__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::ErrorCode => {
                            if error_code__.is_some() {
                                return Err(serde::de::Error::duplicate_field("errorCode"));
                            }
                            error_code__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::ApiVersion => {
                            if api_version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("apiVersion"));
                            }
                            api_version__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::ApiKey => {
                            if api_key__.is_some() {
                                return Err(serde::de::Error::duplicate_field("apiKey"));
                            }
                            api_key__ = Some(map_.next_value()?);
                        }
                        GeneratedField::CorrelationId => {
                            if correlation_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("correlationId"));
                            }
                            correlation_id__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Topic => {
                            if topic__.is_some() {
                                return Err(serde::de::Error::duplicate_field("topic"));
                            }
                            topic__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Kafka {
                    error_code: error_code__.unwrap_or_default(),
                    api_version: api_version__.unwrap_or_default(),
                    api_key: api_key__.unwrap_or_default(),
                    correlation_id: correlation_id__.unwrap_or_default(),
                    topic: topic__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("flow.Kafka", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for L7FlowType {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::UnknownL7Type => "UNKNOWN_L7_TYPE",
            Self::Request => "REQUEST",
            Self::Response => "RESPONSE",
            Self::Sample => "SAMPLE",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for L7FlowType {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "UNKNOWN_L7_TYPE",
            "REQUEST",
            "RESPONSE",
            "SAMPLE",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = L7FlowType;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "UNKNOWN_L7_TYPE" => Ok(L7FlowType::UnknownL7Type),
                    "REQUEST" => Ok(L7FlowType::Request),
                    "RESPONSE" => Ok(L7FlowType::Response),
                    "SAMPLE" => Ok(L7FlowType::Sample),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for Layer4 {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.protocol.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.Layer4", len)?;
        if let Some(v) = self.protocol.as_ref() {
            match v {
                layer4::Protocol::Tcp(v) => {
                    struct_ser.serialize_field("TCP", v)?;
                }
                layer4::Protocol::Udp(v) => {
                    struct_ser.serialize_field("UDP", v)?;
                }
                layer4::Protocol::IcmPv4(v) => {
                    struct_ser.serialize_field("ICMPv4", v)?;
                }
                layer4::Protocol::IcmPv6(v) => {
                    struct_ser.serialize_field("ICMPv6", v)?;
                }
                layer4::Protocol::Sctp(v) => {
                    struct_ser.serialize_field("SCTP", v)?;
                }
            }
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Layer4 {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "TCP",
            "UDP",
            "ICMPv4",
            "ICMPv6",
            "SCTP",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Tcp,
            Udp,
            IcmPv4,
            IcmPv6,
            Sctp,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "TCP" => Ok(GeneratedField::Tcp),
                            "UDP" => Ok(GeneratedField::Udp),
                            "ICMPv4" => Ok(GeneratedField::IcmPv4),
                            "ICMPv6" => Ok(GeneratedField::IcmPv6),
                            "SCTP" => Ok(GeneratedField::Sctp),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Layer4;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.Layer4")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Layer4, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut protocol__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Tcp => {
                            if protocol__.is_some() {
                                return Err(serde::de::Error::duplicate_field("TCP"));
                            }
                            protocol__ = map_.next_value::<::std::option::Option<_>>()?.map(layer4::Protocol::Tcp)
;
                        }
                        GeneratedField::Udp => {
                            if protocol__.is_some() {
                                return Err(serde::de::Error::duplicate_field("UDP"));
                            }
                            protocol__ = map_.next_value::<::std::option::Option<_>>()?.map(layer4::Protocol::Udp)
;
                        }
                        GeneratedField::IcmPv4 => {
                            if protocol__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ICMPv4"));
                            }
                            protocol__ = map_.next_value::<::std::option::Option<_>>()?.map(layer4::Protocol::IcmPv4)
;
                        }
                        GeneratedField::IcmPv6 => {
                            if protocol__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ICMPv6"));
                            }
                            protocol__ = map_.next_value::<::std::option::Option<_>>()?.map(layer4::Protocol::IcmPv6)
;
                        }
                        GeneratedField::Sctp => {
                            if protocol__.is_some() {
                                return Err(serde::de::Error::duplicate_field("SCTP"));
                            }
                            protocol__ = map_.next_value::<::std::option::Option<_>>()?.map(layer4::Protocol::Sctp)
;
                        }
                    }
                }
                Ok(Layer4 {
                    protocol: protocol__,
                })
            }
        }
        deserializer.deserialize_struct("flow.Layer4", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Layer7 {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.r#type != 0 {
            len += 1;
        }
        if self.latency_ns != 0 {
            len += 1;
        }
        if self.record.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.Layer7", len)?;
        if self.r#type != 0 {
            let v = L7FlowType::try_from(self.r#type)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.r#type)))?;
            struct_ser.serialize_field("type", &v)?;
        }
        if self.latency_ns != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("latency_ns", ToString::to_string(&self.latency_ns).as_str())?;
        }
        if let Some(v) = self.record.as_ref() {
            match v {
                layer7::Record::Dns(v) => {
                    struct_ser.serialize_field("dns", v)?;
                }
                layer7::Record::Http(v) => {
                    struct_ser.serialize_field("http", v)?;
                }
                layer7::Record::Kafka(v) => {
                    struct_ser.serialize_field("kafka", v)?;
                }
            }
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Layer7 {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "type",
            "latency_ns",
            "latencyNs",
            "dns",
            "http",
            "kafka",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Type,
            LatencyNs,
            Dns,
            Http,
            Kafka,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "type" => Ok(GeneratedField::Type),
                            "latencyNs" | "latency_ns" => Ok(GeneratedField::LatencyNs),
                            "dns" => Ok(GeneratedField::Dns),
                            "http" => Ok(GeneratedField::Http),
                            "kafka" => Ok(GeneratedField::Kafka),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Layer7;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.Layer7")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Layer7, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut r#type__ = None;
                let mut latency_ns__ = None;
                let mut record__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Type => {
                            if r#type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("type"));
                            }
                            r#type__ = Some(map_.next_value::<L7FlowType>()? as i32);
                        }
                        GeneratedField::LatencyNs => {
                            if latency_ns__.is_some() {
                                return Err(serde::de::Error::duplicate_field("latencyNs"));
                            }
                            latency_ns__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Dns => {
                            if record__.is_some() {
                                return Err(serde::de::Error::duplicate_field("dns"));
                            }
                            record__ = map_.next_value::<::std::option::Option<_>>()?.map(layer7::Record::Dns)
;
                        }
                        GeneratedField::Http => {
                            if record__.is_some() {
                                return Err(serde::de::Error::duplicate_field("http"));
                            }
                            record__ = map_.next_value::<::std::option::Option<_>>()?.map(layer7::Record::Http)
;
                        }
                        GeneratedField::Kafka => {
                            if record__.is_some() {
                                return Err(serde::de::Error::duplicate_field("kafka"));
                            }
                            record__ = map_.next_value::<::std::option::Option<_>>()?.map(layer7::Record::Kafka)
;
                        }
                    }
                }
                Ok(Layer7 {
                    r#type: r#type__.unwrap_or_default(),
                    latency_ns: latency_ns__.unwrap_or_default(),
                    record: record__,
                })
            }
        }
        deserializer.deserialize_struct("flow.Layer7", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for LostEvent {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.source != 0 {
            len += 1;
        }
        if self.num_events_lost != 0 {
            len += 1;
        }
        if self.cpu.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.LostEvent", len)?;
        if self.source != 0 {
            let v = LostEventSource::try_from(self.source)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.source)))?;
            struct_ser.serialize_field("source", &v)?;
        }
        if self.num_events_lost != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("num_events_lost", ToString::to_string(&self.num_events_lost).as_str())?;
        }
        if let Some(v) = self.cpu.as_ref() {
            struct_ser.serialize_field("cpu", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for LostEvent {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "source",
            "num_events_lost",
            "numEventsLost",
            "cpu",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Source,
            NumEventsLost,
            Cpu,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "source" => Ok(GeneratedField::Source),
                            "numEventsLost" | "num_events_lost" => Ok(GeneratedField::NumEventsLost),
                            "cpu" => Ok(GeneratedField::Cpu),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = LostEvent;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.LostEvent")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<LostEvent, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut source__ = None;
                let mut num_events_lost__ = None;
                let mut cpu__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Source => {
                            if source__.is_some() {
                                return Err(serde::de::Error::duplicate_field("source"));
                            }
                            source__ = Some(map_.next_value::<LostEventSource>()? as i32);
                        }
                        GeneratedField::NumEventsLost => {
                            if num_events_lost__.is_some() {
                                return Err(serde::de::Error::duplicate_field("numEventsLost"));
                            }
                            num_events_lost__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Cpu => {
                            if cpu__.is_some() {
                                return Err(serde::de::Error::duplicate_field("cpu"));
                            }
                            cpu__ = map_.next_value()?;
                        }
                    }
                }
                Ok(LostEvent {
                    source: source__.unwrap_or_default(),
                    num_events_lost: num_events_lost__.unwrap_or_default(),
                    cpu: cpu__,
                })
            }
        }
        deserializer.deserialize_struct("flow.LostEvent", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for LostEventSource {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::UnknownLostEventSource => "UNKNOWN_LOST_EVENT_SOURCE",
            Self::PerfEventRingBuffer => "PERF_EVENT_RING_BUFFER",
            Self::ObserverEventsQueue => "OBSERVER_EVENTS_QUEUE",
            Self::HubbleRingBuffer => "HUBBLE_RING_BUFFER",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for LostEventSource {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "UNKNOWN_LOST_EVENT_SOURCE",
            "PERF_EVENT_RING_BUFFER",
            "OBSERVER_EVENTS_QUEUE",
            "HUBBLE_RING_BUFFER",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = LostEventSource;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "UNKNOWN_LOST_EVENT_SOURCE" => Ok(LostEventSource::UnknownLostEventSource),
                    "PERF_EVENT_RING_BUFFER" => Ok(LostEventSource::PerfEventRingBuffer),
                    "OBSERVER_EVENTS_QUEUE" => Ok(LostEventSource::ObserverEventsQueue),
                    "HUBBLE_RING_BUFFER" => Ok(LostEventSource::HubbleRingBuffer),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for NetworkInterface {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.index != 0 {
            len += 1;
        }
        if !self.name.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.NetworkInterface", len)?;
        if self.index != 0 {
            struct_ser.serialize_field("index", &self.index)?;
        }
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for NetworkInterface {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "index",
            "name",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Index,
            Name,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "index" => Ok(GeneratedField::Index),
                            "name" => Ok(GeneratedField::Name),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = NetworkInterface;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.NetworkInterface")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<NetworkInterface, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut index__ = None;
                let mut name__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Index => {
                            if index__.is_some() {
                                return Err(serde::de::Error::duplicate_field("index"));
                            }
                            index__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(NetworkInterface {
                    index: index__.unwrap_or_default(),
                    name: name__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("flow.NetworkInterface", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Sctp {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.source_port != 0 {
            len += 1;
        }
        if self.destination_port != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.SCTP", len)?;
        if self.source_port != 0 {
            struct_ser.serialize_field("source_port", &self.source_port)?;
        }
        if self.destination_port != 0 {
            struct_ser.serialize_field("destination_port", &self.destination_port)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Sctp {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "source_port",
            "sourcePort",
            "destination_port",
            "destinationPort",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            SourcePort,
            DestinationPort,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "sourcePort" | "source_port" => Ok(GeneratedField::SourcePort),
                            "destinationPort" | "destination_port" => Ok(GeneratedField::DestinationPort),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Sctp;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.SCTP")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Sctp, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut source_port__ = None;
                let mut destination_port__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::SourcePort => {
                            if source_port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sourcePort"));
                            }
                            source_port__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::DestinationPort => {
                            if destination_port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("destinationPort"));
                            }
                            destination_port__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(Sctp {
                    source_port: source_port__.unwrap_or_default(),
                    destination_port: destination_port__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("flow.SCTP", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Service {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.name.is_empty() {
            len += 1;
        }
        if !self.namespace.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.Service", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if !self.namespace.is_empty() {
            struct_ser.serialize_field("namespace", &self.namespace)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Service {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "namespace",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            Namespace,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "name" => Ok(GeneratedField::Name),
                            "namespace" => Ok(GeneratedField::Namespace),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Service;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.Service")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Service, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut namespace__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Namespace => {
                            if namespace__.is_some() {
                                return Err(serde::de::Error::duplicate_field("namespace"));
                            }
                            namespace__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Service {
                    name: name__.unwrap_or_default(),
                    namespace: namespace__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("flow.Service", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for SocketTranslationPoint {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::SockXlatePointUnknown => "SOCK_XLATE_POINT_UNKNOWN",
            Self::SockXlatePointPreDirectionFwd => "SOCK_XLATE_POINT_PRE_DIRECTION_FWD",
            Self::SockXlatePointPostDirectionFwd => "SOCK_XLATE_POINT_POST_DIRECTION_FWD",
            Self::SockXlatePointPreDirectionRev => "SOCK_XLATE_POINT_PRE_DIRECTION_REV",
            Self::SockXlatePointPostDirectionRev => "SOCK_XLATE_POINT_POST_DIRECTION_REV",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for SocketTranslationPoint {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "SOCK_XLATE_POINT_UNKNOWN",
            "SOCK_XLATE_POINT_PRE_DIRECTION_FWD",
            "SOCK_XLATE_POINT_POST_DIRECTION_FWD",
            "SOCK_XLATE_POINT_PRE_DIRECTION_REV",
            "SOCK_XLATE_POINT_POST_DIRECTION_REV",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = SocketTranslationPoint;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "SOCK_XLATE_POINT_UNKNOWN" => Ok(SocketTranslationPoint::SockXlatePointUnknown),
                    "SOCK_XLATE_POINT_PRE_DIRECTION_FWD" => Ok(SocketTranslationPoint::SockXlatePointPreDirectionFwd),
                    "SOCK_XLATE_POINT_POST_DIRECTION_FWD" => Ok(SocketTranslationPoint::SockXlatePointPostDirectionFwd),
                    "SOCK_XLATE_POINT_PRE_DIRECTION_REV" => Ok(SocketTranslationPoint::SockXlatePointPreDirectionRev),
                    "SOCK_XLATE_POINT_POST_DIRECTION_REV" => Ok(SocketTranslationPoint::SockXlatePointPostDirectionRev),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for Tcp {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.source_port != 0 {
            len += 1;
        }
        if self.destination_port != 0 {
            len += 1;
        }
        if self.flags.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.TCP", len)?;
        if self.source_port != 0 {
            struct_ser.serialize_field("source_port", &self.source_port)?;
        }
        if self.destination_port != 0 {
            struct_ser.serialize_field("destination_port", &self.destination_port)?;
        }
        if let Some(v) = self.flags.as_ref() {
            struct_ser.serialize_field("flags", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Tcp {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "source_port",
            "sourcePort",
            "destination_port",
            "destinationPort",
            "flags",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            SourcePort,
            DestinationPort,
            Flags,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "sourcePort" | "source_port" => Ok(GeneratedField::SourcePort),
                            "destinationPort" | "destination_port" => Ok(GeneratedField::DestinationPort),
                            "flags" => Ok(GeneratedField::Flags),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Tcp;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.TCP")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Tcp, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut source_port__ = None;
                let mut destination_port__ = None;
                let mut flags__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::SourcePort => {
                            if source_port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sourcePort"));
                            }
                            source_port__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::DestinationPort => {
                            if destination_port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("destinationPort"));
                            }
                            destination_port__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Flags => {
                            if flags__.is_some() {
                                return Err(serde::de::Error::duplicate_field("flags"));
                            }
                            flags__ = map_.next_value()?;
                        }
                    }
                }
                Ok(Tcp {
                    source_port: source_port__.unwrap_or_default(),
                    destination_port: destination_port__.unwrap_or_default(),
                    flags: flags__,
                })
            }
        }
        deserializer.deserialize_struct("flow.TCP", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for TcpFlags {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.fin {
            len += 1;
        }
        if self.syn {
            len += 1;
        }
        if self.rst {
            len += 1;
        }
        if self.psh {
            len += 1;
        }
        if self.ack {
            len += 1;
        }
        if self.urg {
            len += 1;
        }
        if self.ece {
            len += 1;
        }
        if self.cwr {
            len += 1;
        }
        if self.ns {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.TCPFlags", len)?;
        if self.fin {
            struct_ser.serialize_field("FIN", &self.fin)?;
        }
        if self.syn {
            struct_ser.serialize_field("SYN", &self.syn)?;
        }
        if self.rst {
            struct_ser.serialize_field("RST", &self.rst)?;
        }
        if self.psh {
            struct_ser.serialize_field("PSH", &self.psh)?;
        }
        if self.ack {
            struct_ser.serialize_field("ACK", &self.ack)?;
        }
        if self.urg {
            struct_ser.serialize_field("URG", &self.urg)?;
        }
        if self.ece {
            struct_ser.serialize_field("ECE", &self.ece)?;
        }
        if self.cwr {
            struct_ser.serialize_field("CWR", &self.cwr)?;
        }
        if self.ns {
            struct_ser.serialize_field("NS", &self.ns)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for TcpFlags {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "FIN",
            "SYN",
            "RST",
            "PSH",
            "ACK",
            "URG",
            "ECE",
            "CWR",
            "NS",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Fin,
            Syn,
            Rst,
            Psh,
            Ack,
            Urg,
            Ece,
            Cwr,
            Ns,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "FIN" => Ok(GeneratedField::Fin),
                            "SYN" => Ok(GeneratedField::Syn),
                            "RST" => Ok(GeneratedField::Rst),
                            "PSH" => Ok(GeneratedField::Psh),
                            "ACK" => Ok(GeneratedField::Ack),
                            "URG" => Ok(GeneratedField::Urg),
                            "ECE" => Ok(GeneratedField::Ece),
                            "CWR" => Ok(GeneratedField::Cwr),
                            "NS" => Ok(GeneratedField::Ns),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = TcpFlags;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.TCPFlags")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<TcpFlags, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut fin__ = None;
                let mut syn__ = None;
                let mut rst__ = None;
                let mut psh__ = None;
                let mut ack__ = None;
                let mut urg__ = None;
                let mut ece__ = None;
                let mut cwr__ = None;
                let mut ns__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Fin => {
                            if fin__.is_some() {
                                return Err(serde::de::Error::duplicate_field("FIN"));
                            }
                            fin__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Syn => {
                            if syn__.is_some() {
                                return Err(serde::de::Error::duplicate_field("SYN"));
                            }
                            syn__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Rst => {
                            if rst__.is_some() {
                                return Err(serde::de::Error::duplicate_field("RST"));
                            }
                            rst__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Psh => {
                            if psh__.is_some() {
                                return Err(serde::de::Error::duplicate_field("PSH"));
                            }
                            psh__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Ack => {
                            if ack__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ACK"));
                            }
                            ack__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Urg => {
                            if urg__.is_some() {
                                return Err(serde::de::Error::duplicate_field("URG"));
                            }
                            urg__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Ece => {
                            if ece__.is_some() {
                                return Err(serde::de::Error::duplicate_field("ECE"));
                            }
                            ece__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Cwr => {
                            if cwr__.is_some() {
                                return Err(serde::de::Error::duplicate_field("CWR"));
                            }
                            cwr__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Ns => {
                            if ns__.is_some() {
                                return Err(serde::de::Error::duplicate_field("NS"));
                            }
                            ns__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(TcpFlags {
                    fin: fin__.unwrap_or_default(),
                    syn: syn__.unwrap_or_default(),
                    rst: rst__.unwrap_or_default(),
                    psh: psh__.unwrap_or_default(),
                    ack: ack__.unwrap_or_default(),
                    urg: urg__.unwrap_or_default(),
                    ece: ece__.unwrap_or_default(),
                    cwr: cwr__.unwrap_or_default(),
                    ns: ns__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("flow.TCPFlags", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for TraceContext {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.parent.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.TraceContext", len)?;
        if let Some(v) = self.parent.as_ref() {
            struct_ser.serialize_field("parent", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for TraceContext {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "parent",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Parent,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "parent" => Ok(GeneratedField::Parent),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = TraceContext;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.TraceContext")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<TraceContext, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut parent__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Parent => {
                            if parent__.is_some() {
                                return Err(serde::de::Error::duplicate_field("parent"));
                            }
                            parent__ = map_.next_value()?;
                        }
                    }
                }
                Ok(TraceContext {
                    parent: parent__,
                })
            }
        }
        deserializer.deserialize_struct("flow.TraceContext", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for TraceObservationPoint {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::UnknownPoint => "UNKNOWN_POINT",
            Self::ToProxy => "TO_PROXY",
            Self::ToHost => "TO_HOST",
            Self::ToStack => "TO_STACK",
            Self::ToOverlay => "TO_OVERLAY",
            Self::ToEndpoint => "TO_ENDPOINT",
            Self::FromEndpoint => "FROM_ENDPOINT",
            Self::FromProxy => "FROM_PROXY",
            Self::FromHost => "FROM_HOST",
            Self::FromStack => "FROM_STACK",
            Self::FromOverlay => "FROM_OVERLAY",
            Self::FromNetwork => "FROM_NETWORK",
            Self::ToNetwork => "TO_NETWORK",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for TraceObservationPoint {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "UNKNOWN_POINT",
            "TO_PROXY",
            "TO_HOST",
            "TO_STACK",
            "TO_OVERLAY",
            "TO_ENDPOINT",
            "FROM_ENDPOINT",
            "FROM_PROXY",
            "FROM_HOST",
            "FROM_STACK",
            "FROM_OVERLAY",
            "FROM_NETWORK",
            "TO_NETWORK",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = TraceObservationPoint;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "UNKNOWN_POINT" => Ok(TraceObservationPoint::UnknownPoint),
                    "TO_PROXY" => Ok(TraceObservationPoint::ToProxy),
                    "TO_HOST" => Ok(TraceObservationPoint::ToHost),
                    "TO_STACK" => Ok(TraceObservationPoint::ToStack),
                    "TO_OVERLAY" => Ok(TraceObservationPoint::ToOverlay),
                    "TO_ENDPOINT" => Ok(TraceObservationPoint::ToEndpoint),
                    "FROM_ENDPOINT" => Ok(TraceObservationPoint::FromEndpoint),
                    "FROM_PROXY" => Ok(TraceObservationPoint::FromProxy),
                    "FROM_HOST" => Ok(TraceObservationPoint::FromHost),
                    "FROM_STACK" => Ok(TraceObservationPoint::FromStack),
                    "FROM_OVERLAY" => Ok(TraceObservationPoint::FromOverlay),
                    "FROM_NETWORK" => Ok(TraceObservationPoint::FromNetwork),
                    "TO_NETWORK" => Ok(TraceObservationPoint::ToNetwork),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for TraceParent {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.trace_id.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.TraceParent", len)?;
        if !self.trace_id.is_empty() {
            struct_ser.serialize_field("trace_id", &self.trace_id)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for TraceParent {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "trace_id",
            "traceId",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            TraceId,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "traceId" | "trace_id" => Ok(GeneratedField::TraceId),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = TraceParent;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.TraceParent")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<TraceParent, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut trace_id__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::TraceId => {
                            if trace_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("traceId"));
                            }
                            trace_id__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(TraceParent {
                    trace_id: trace_id__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("flow.TraceParent", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for TrafficDirection {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Unknown => "TRAFFIC_DIRECTION_UNKNOWN",
            Self::Ingress => "INGRESS",
            Self::Egress => "EGRESS",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for TrafficDirection {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "TRAFFIC_DIRECTION_UNKNOWN",
            "INGRESS",
            "EGRESS",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = TrafficDirection;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "TRAFFIC_DIRECTION_UNKNOWN" => Ok(TrafficDirection::Unknown),
                    "INGRESS" => Ok(TrafficDirection::Ingress),
                    "EGRESS" => Ok(TrafficDirection::Egress),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for Udp {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.source_port != 0 {
            len += 1;
        }
        if self.destination_port != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.UDP", len)?;
        if self.source_port != 0 {
            struct_ser.serialize_field("source_port", &self.source_port)?;
        }
        if self.destination_port != 0 {
            struct_ser.serialize_field("destination_port", &self.destination_port)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Udp {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "source_port",
            "sourcePort",
            "destination_port",
            "destinationPort",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            SourcePort,
            DestinationPort,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "sourcePort" | "source_port" => Ok(GeneratedField::SourcePort),
                            "destinationPort" | "destination_port" => Ok(GeneratedField::DestinationPort),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Udp;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.UDP")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Udp, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut source_port__ = None;
                let mut destination_port__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::SourcePort => {
                            if source_port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("sourcePort"));
                            }
                            source_port__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::DestinationPort => {
                            if destination_port__.is_some() {
                                return Err(serde::de::Error::duplicate_field("destinationPort"));
                            }
                            destination_port__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(Udp {
                    source_port: source_port__.unwrap_or_default(),
                    destination_port: destination_port__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("flow.UDP", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Verdict {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Unknown => "VERDICT_UNKNOWN",
            Self::Forwarded => "FORWARDED",
            Self::Dropped => "DROPPED",
            Self::Error => "ERROR",
            Self::Audit => "AUDIT",
            Self::Redirected => "REDIRECTED",
            Self::Traced => "TRACED",
            Self::Translated => "TRANSLATED",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for Verdict {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "VERDICT_UNKNOWN",
            "FORWARDED",
            "DROPPED",
            "ERROR",
            "AUDIT",
            "REDIRECTED",
            "TRACED",
            "TRANSLATED",
        ];

        struct GeneratedVisitor;

        impl serde::de::Visitor<'_> for GeneratedVisitor {
            type Value = Verdict;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "VERDICT_UNKNOWN" => Ok(Verdict::Unknown),
                    "FORWARDED" => Ok(Verdict::Forwarded),
                    "DROPPED" => Ok(Verdict::Dropped),
                    "ERROR" => Ok(Verdict::Error),
                    "AUDIT" => Ok(Verdict::Audit),
                    "REDIRECTED" => Ok(Verdict::Redirected),
                    "TRACED" => Ok(Verdict::Traced),
                    "TRANSLATED" => Ok(Verdict::Translated),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for Workload {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.name.is_empty() {
            len += 1;
        }
        if !self.kind.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("flow.Workload", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if !self.kind.is_empty() {
            struct_ser.serialize_field("kind", &self.kind)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Workload {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "kind",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            Kind,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl serde::de::Visitor<'_> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "name" => Ok(GeneratedField::Name),
                            "kind" => Ok(GeneratedField::Kind),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Workload;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct flow.Workload")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Workload, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut kind__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Kind => {
                            if kind__.is_some() {
                                return Err(serde::de::Error::duplicate_field("kind"));
                            }
                            kind__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Workload {
                    name: name__.unwrap_or_default(),
                    kind: kind__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("flow.Workload", FIELDS, GeneratedVisitor)
    }
}
