impl serde::Serialize for GetFlowsRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.number != 0 {
            len += 1;
        }
        if self.first {
            len += 1;
        }
        if self.follow {
            len += 1;
        }
        if !self.blacklist.is_empty() {
            len += 1;
        }
        if !self.whitelist.is_empty() {
            len += 1;
        }
        if self.since.is_some() {
            len += 1;
        }
        if self.until.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("observer.GetFlowsRequest", len)?;
        if self.number != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("number", ToString::to_string(&self.number).as_str())?;
        }
        if self.first {
            struct_ser.serialize_field("first", &self.first)?;
        }
        if self.follow {
            struct_ser.serialize_field("follow", &self.follow)?;
        }
        if !self.blacklist.is_empty() {
            struct_ser.serialize_field("blacklist", &self.blacklist)?;
        }
        if !self.whitelist.is_empty() {
            struct_ser.serialize_field("whitelist", &self.whitelist)?;
        }
        if let Some(v) = self.since.as_ref() {
            struct_ser.serialize_field("since", v)?;
        }
        if let Some(v) = self.until.as_ref() {
            struct_ser.serialize_field("until", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetFlowsRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "number",
            "first",
            "follow",
            "blacklist",
            "whitelist",
            "since",
            "until",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Number,
            First,
            Follow,
            Blacklist,
            Whitelist,
            Since,
            Until,
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
                            "number" => Ok(GeneratedField::Number),
                            "first" => Ok(GeneratedField::First),
                            "follow" => Ok(GeneratedField::Follow),
                            "blacklist" => Ok(GeneratedField::Blacklist),
                            "whitelist" => Ok(GeneratedField::Whitelist),
                            "since" => Ok(GeneratedField::Since),
                            "until" => Ok(GeneratedField::Until),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetFlowsRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct observer.GetFlowsRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetFlowsRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut number__ = None;
                let mut first__ = None;
                let mut follow__ = None;
                let mut blacklist__ = None;
                let mut whitelist__ = None;
                let mut since__ = None;
                let mut until__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Number => {
                            if number__.is_some() {
                                return Err(serde::de::Error::duplicate_field("number"));
                            }
                            number__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::First => {
                            if first__.is_some() {
                                return Err(serde::de::Error::duplicate_field("first"));
                            }
                            first__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Follow => {
                            if follow__.is_some() {
                                return Err(serde::de::Error::duplicate_field("follow"));
                            }
                            follow__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Blacklist => {
                            if blacklist__.is_some() {
                                return Err(serde::de::Error::duplicate_field("blacklist"));
                            }
                            blacklist__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Whitelist => {
                            if whitelist__.is_some() {
                                return Err(serde::de::Error::duplicate_field("whitelist"));
                            }
                            whitelist__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Since => {
                            if since__.is_some() {
                                return Err(serde::de::Error::duplicate_field("since"));
                            }
                            since__ = map_.next_value()?;
                        }
                        GeneratedField::Until => {
                            if until__.is_some() {
                                return Err(serde::de::Error::duplicate_field("until"));
                            }
                            until__ = map_.next_value()?;
                        }
                    }
                }
                Ok(GetFlowsRequest {
                    number: number__.unwrap_or_default(),
                    first: first__.unwrap_or_default(),
                    follow: follow__.unwrap_or_default(),
                    blacklist: blacklist__.unwrap_or_default(),
                    whitelist: whitelist__.unwrap_or_default(),
                    since: since__,
                    until: until__,
                })
            }
        }
        deserializer.deserialize_struct("observer.GetFlowsRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetFlowsResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.node_name.is_empty() {
            len += 1;
        }
        if self.time.is_some() {
            len += 1;
        }
        if self.response_types.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("observer.GetFlowsResponse", len)?;
        if !self.node_name.is_empty() {
            struct_ser.serialize_field("node_name", &self.node_name)?;
        }
        if let Some(v) = self.time.as_ref() {
            struct_ser.serialize_field("time", v)?;
        }
        if let Some(v) = self.response_types.as_ref() {
            match v {
                get_flows_response::ResponseTypes::Flow(v) => {
                    struct_ser.serialize_field("flow", v)?;
                }
                get_flows_response::ResponseTypes::NodeStatus(v) => {
                    struct_ser.serialize_field("node_status", v)?;
                }
                get_flows_response::ResponseTypes::LostEvents(v) => {
                    struct_ser.serialize_field("lost_events", v)?;
                }
            }
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetFlowsResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "node_name",
            "nodeName",
            "time",
            "flow",
            "node_status",
            "nodeStatus",
            "lost_events",
            "lostEvents",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            NodeName,
            Time,
            Flow,
            NodeStatus,
            LostEvents,
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
                            "nodeName" | "node_name" => Ok(GeneratedField::NodeName),
                            "time" => Ok(GeneratedField::Time),
                            "flow" => Ok(GeneratedField::Flow),
                            "nodeStatus" | "node_status" => Ok(GeneratedField::NodeStatus),
                            "lostEvents" | "lost_events" => Ok(GeneratedField::LostEvents),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetFlowsResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct observer.GetFlowsResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetFlowsResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut node_name__ = None;
                let mut time__ = None;
                let mut response_types__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::NodeName => {
                            if node_name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nodeName"));
                            }
                            node_name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Time => {
                            if time__.is_some() {
                                return Err(serde::de::Error::duplicate_field("time"));
                            }
                            time__ = map_.next_value()?;
                        }
                        GeneratedField::Flow => {
                            if response_types__.is_some() {
                                return Err(serde::de::Error::duplicate_field("flow"));
                            }
                            response_types__ = map_.next_value::<::std::option::Option<_>>()?.map(get_flows_response::ResponseTypes::Flow)
;
                        }
                        GeneratedField::NodeStatus => {
                            if response_types__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nodeStatus"));
                            }
                            response_types__ = map_.next_value::<::std::option::Option<_>>()?.map(get_flows_response::ResponseTypes::NodeStatus)
;
                        }
                        GeneratedField::LostEvents => {
                            if response_types__.is_some() {
                                return Err(serde::de::Error::duplicate_field("lostEvents"));
                            }
                            response_types__ = map_.next_value::<::std::option::Option<_>>()?.map(get_flows_response::ResponseTypes::LostEvents)
;
                        }
                    }
                }
                Ok(GetFlowsResponse {
                    node_name: node_name__.unwrap_or_default(),
                    time: time__,
                    response_types: response_types__,
                })
            }
        }
        deserializer.deserialize_struct("observer.GetFlowsResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetNodesRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("observer.GetNodesRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetNodesRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
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
                            Err(serde::de::Error::unknown_field(value, FIELDS))
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetNodesRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct observer.GetNodesRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetNodesRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(GetNodesRequest {
                })
            }
        }
        deserializer.deserialize_struct("observer.GetNodesRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetNodesResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.nodes.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("observer.GetNodesResponse", len)?;
        if !self.nodes.is_empty() {
            struct_ser.serialize_field("nodes", &self.nodes)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetNodesResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "nodes",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Nodes,
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
                            "nodes" => Ok(GeneratedField::Nodes),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetNodesResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct observer.GetNodesResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetNodesResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut nodes__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Nodes => {
                            if nodes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nodes"));
                            }
                            nodes__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(GetNodesResponse {
                    nodes: nodes__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("observer.GetNodesResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Node {
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
        if !self.version.is_empty() {
            len += 1;
        }
        if !self.address.is_empty() {
            len += 1;
        }
        if self.state != 0 {
            len += 1;
        }
        if self.tls.is_some() {
            len += 1;
        }
        if self.uptime_ns != 0 {
            len += 1;
        }
        if self.num_flows != 0 {
            len += 1;
        }
        if self.max_flows != 0 {
            len += 1;
        }
        if self.seen_flows != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("observer.Node", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if !self.version.is_empty() {
            struct_ser.serialize_field("version", &self.version)?;
        }
        if !self.address.is_empty() {
            struct_ser.serialize_field("address", &self.address)?;
        }
        if self.state != 0 {
            let v = super::relay::NodeState::try_from(self.state)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.state)))?;
            struct_ser.serialize_field("state", &v)?;
        }
        if let Some(v) = self.tls.as_ref() {
            struct_ser.serialize_field("tls", v)?;
        }
        if self.uptime_ns != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("uptime_ns", ToString::to_string(&self.uptime_ns).as_str())?;
        }
        if self.num_flows != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("num_flows", ToString::to_string(&self.num_flows).as_str())?;
        }
        if self.max_flows != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("max_flows", ToString::to_string(&self.max_flows).as_str())?;
        }
        if self.seen_flows != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("seen_flows", ToString::to_string(&self.seen_flows).as_str())?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Node {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "version",
            "address",
            "state",
            "tls",
            "uptime_ns",
            "uptimeNs",
            "num_flows",
            "numFlows",
            "max_flows",
            "maxFlows",
            "seen_flows",
            "seenFlows",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            Version,
            Address,
            State,
            Tls,
            UptimeNs,
            NumFlows,
            MaxFlows,
            SeenFlows,
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
                            "version" => Ok(GeneratedField::Version),
                            "address" => Ok(GeneratedField::Address),
                            "state" => Ok(GeneratedField::State),
                            "tls" => Ok(GeneratedField::Tls),
                            "uptimeNs" | "uptime_ns" => Ok(GeneratedField::UptimeNs),
                            "numFlows" | "num_flows" => Ok(GeneratedField::NumFlows),
                            "maxFlows" | "max_flows" => Ok(GeneratedField::MaxFlows),
                            "seenFlows" | "seen_flows" => Ok(GeneratedField::SeenFlows),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Node;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct observer.Node")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Node, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut version__ = None;
                let mut address__ = None;
                let mut state__ = None;
                let mut tls__ = None;
                let mut uptime_ns__ = None;
                let mut num_flows__ = None;
                let mut max_flows__ = None;
                let mut seen_flows__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Version => {
                            if version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("version"));
                            }
                            version__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Address => {
                            if address__.is_some() {
                                return Err(serde::de::Error::duplicate_field("address"));
                            }
                            address__ = Some(map_.next_value()?);
                        }
                        GeneratedField::State => {
                            if state__.is_some() {
                                return Err(serde::de::Error::duplicate_field("state"));
                            }
                            state__ = Some(map_.next_value::<super::relay::NodeState>()? as i32);
                        }
                        GeneratedField::Tls => {
                            if tls__.is_some() {
                                return Err(serde::de::Error::duplicate_field("tls"));
                            }
                            tls__ = map_.next_value()?;
                        }
                        GeneratedField::UptimeNs => {
                            if uptime_ns__.is_some() {
                                return Err(serde::de::Error::duplicate_field("uptimeNs"));
                            }
                            uptime_ns__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::NumFlows => {
                            if num_flows__.is_some() {
                                return Err(serde::de::Error::duplicate_field("numFlows"));
                            }
                            num_flows__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::MaxFlows => {
                            if max_flows__.is_some() {
                                return Err(serde::de::Error::duplicate_field("maxFlows"));
                            }
                            max_flows__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::SeenFlows => {
                            if seen_flows__.is_some() {
                                return Err(serde::de::Error::duplicate_field("seenFlows"));
                            }
                            seen_flows__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                    }
                }
                Ok(Node {
                    name: name__.unwrap_or_default(),
                    version: version__.unwrap_or_default(),
                    address: address__.unwrap_or_default(),
                    state: state__.unwrap_or_default(),
                    tls: tls__,
                    uptime_ns: uptime_ns__.unwrap_or_default(),
                    num_flows: num_flows__.unwrap_or_default(),
                    max_flows: max_flows__.unwrap_or_default(),
                    seen_flows: seen_flows__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("observer.Node", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ServerStatusRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("observer.ServerStatusRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ServerStatusRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
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
                            Err(serde::de::Error::unknown_field(value, FIELDS))
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ServerStatusRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct observer.ServerStatusRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ServerStatusRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(ServerStatusRequest {
                })
            }
        }
        deserializer.deserialize_struct("observer.ServerStatusRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ServerStatusResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.num_flows != 0 {
            len += 1;
        }
        if self.max_flows != 0 {
            len += 1;
        }
        if self.seen_flows != 0 {
            len += 1;
        }
        if self.uptime_ns != 0 {
            len += 1;
        }
        if self.num_connected_nodes.is_some() {
            len += 1;
        }
        if self.num_unavailable_nodes.is_some() {
            len += 1;
        }
        if !self.unavailable_nodes.is_empty() {
            len += 1;
        }
        if !self.version.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("observer.ServerStatusResponse", len)?;
        if self.num_flows != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("num_flows", ToString::to_string(&self.num_flows).as_str())?;
        }
        if self.max_flows != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("max_flows", ToString::to_string(&self.max_flows).as_str())?;
        }
        if self.seen_flows != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("seen_flows", ToString::to_string(&self.seen_flows).as_str())?;
        }
        if self.uptime_ns != 0 {
            #[allow(clippy::needless_borrow)]
            #[allow(clippy::needless_borrows_for_generic_args)]
            struct_ser.serialize_field("uptime_ns", ToString::to_string(&self.uptime_ns).as_str())?;
        }
        if let Some(v) = self.num_connected_nodes.as_ref() {
            struct_ser.serialize_field("num_connected_nodes", v)?;
        }
        if let Some(v) = self.num_unavailable_nodes.as_ref() {
            struct_ser.serialize_field("num_unavailable_nodes", v)?;
        }
        if !self.unavailable_nodes.is_empty() {
            struct_ser.serialize_field("unavailable_nodes", &self.unavailable_nodes)?;
        }
        if !self.version.is_empty() {
            struct_ser.serialize_field("version", &self.version)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ServerStatusResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "num_flows",
            "numFlows",
            "max_flows",
            "maxFlows",
            "seen_flows",
            "seenFlows",
            "uptime_ns",
            "uptimeNs",
            "num_connected_nodes",
            "numConnectedNodes",
            "num_unavailable_nodes",
            "numUnavailableNodes",
            "unavailable_nodes",
            "unavailableNodes",
            "version",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            NumFlows,
            MaxFlows,
            SeenFlows,
            UptimeNs,
            NumConnectedNodes,
            NumUnavailableNodes,
            UnavailableNodes,
            Version,
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
                            "numFlows" | "num_flows" => Ok(GeneratedField::NumFlows),
                            "maxFlows" | "max_flows" => Ok(GeneratedField::MaxFlows),
                            "seenFlows" | "seen_flows" => Ok(GeneratedField::SeenFlows),
                            "uptimeNs" | "uptime_ns" => Ok(GeneratedField::UptimeNs),
                            "numConnectedNodes" | "num_connected_nodes" => Ok(GeneratedField::NumConnectedNodes),
                            "numUnavailableNodes" | "num_unavailable_nodes" => Ok(GeneratedField::NumUnavailableNodes),
                            "unavailableNodes" | "unavailable_nodes" => Ok(GeneratedField::UnavailableNodes),
                            "version" => Ok(GeneratedField::Version),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ServerStatusResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct observer.ServerStatusResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ServerStatusResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut num_flows__ = None;
                let mut max_flows__ = None;
                let mut seen_flows__ = None;
                let mut uptime_ns__ = None;
                let mut num_connected_nodes__ = None;
                let mut num_unavailable_nodes__ = None;
                let mut unavailable_nodes__ = None;
                let mut version__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::NumFlows => {
                            if num_flows__.is_some() {
                                return Err(serde::de::Error::duplicate_field("numFlows"));
                            }
                            num_flows__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::MaxFlows => {
                            if max_flows__.is_some() {
                                return Err(serde::de::Error::duplicate_field("maxFlows"));
                            }
                            max_flows__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::SeenFlows => {
                            if seen_flows__.is_some() {
                                return Err(serde::de::Error::duplicate_field("seenFlows"));
                            }
                            seen_flows__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::UptimeNs => {
                            if uptime_ns__.is_some() {
                                return Err(serde::de::Error::duplicate_field("uptimeNs"));
                            }
                            uptime_ns__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::NumConnectedNodes => {
                            if num_connected_nodes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("numConnectedNodes"));
                            }
                            num_connected_nodes__ = map_.next_value()?;
                        }
                        GeneratedField::NumUnavailableNodes => {
                            if num_unavailable_nodes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("numUnavailableNodes"));
                            }
                            num_unavailable_nodes__ = map_.next_value()?;
                        }
                        GeneratedField::UnavailableNodes => {
                            if unavailable_nodes__.is_some() {
                                return Err(serde::de::Error::duplicate_field("unavailableNodes"));
                            }
                            unavailable_nodes__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Version => {
                            if version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("version"));
                            }
                            version__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(ServerStatusResponse {
                    num_flows: num_flows__.unwrap_or_default(),
                    max_flows: max_flows__.unwrap_or_default(),
                    seen_flows: seen_flows__.unwrap_or_default(),
                    uptime_ns: uptime_ns__.unwrap_or_default(),
                    num_connected_nodes: num_connected_nodes__,
                    num_unavailable_nodes: num_unavailable_nodes__,
                    unavailable_nodes: unavailable_nodes__.unwrap_or_default(),
                    version: version__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("observer.ServerStatusResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for Tls {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.enabled {
            len += 1;
        }
        if !self.server_name.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("observer.TLS", len)?;
        if self.enabled {
            struct_ser.serialize_field("enabled", &self.enabled)?;
        }
        if !self.server_name.is_empty() {
            struct_ser.serialize_field("server_name", &self.server_name)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for Tls {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "enabled",
            "server_name",
            "serverName",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Enabled,
            ServerName,
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
                            "enabled" => Ok(GeneratedField::Enabled),
                            "serverName" | "server_name" => Ok(GeneratedField::ServerName),
                            _ => Err(serde::de::Error::unknown_field(value, FIELDS)),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = Tls;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct observer.TLS")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<Tls, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut enabled__ = None;
                let mut server_name__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Enabled => {
                            if enabled__.is_some() {
                                return Err(serde::de::Error::duplicate_field("enabled"));
                            }
                            enabled__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ServerName => {
                            if server_name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("serverName"));
                            }
                            server_name__ = Some(map_.next_value()?);
                        }
                    }
                }
                Ok(Tls {
                    enabled: enabled__.unwrap_or_default(),
                    server_name: server_name__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("observer.TLS", FIELDS, GeneratedVisitor)
    }
}
