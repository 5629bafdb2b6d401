//! The closed sets of values the store keeps as text (a hook's type, an execution's status
//! and trigger, a change's type, a schedule's interval, an API key's scopes): each is an enum here, parsed once
//! where a row is read or a request is checked, and spelled by `as_str` where one is
//! written. Nothing else compares them as text.

/// A spelling none of a kind's values has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unlisted {
    pub got: String,
    /// The values there are, listed (`PULL, PUSH`).
    pub listed: String,
}

impl std::fmt::Display for Unlisted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "must be one of {}, got {:?}", self.listed, self.got)
    }
}

impl std::error::Error for Unlisted {}

/// An enum each of whose values is spelled one way in the database and on the wire.
macro_rules! spelled {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl $name {
            /// Every value, in the order they are listed.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The spellings, for messages: `15m, 30m, 1h`.
            pub fn listed() -> String {
                $name::ALL.iter().map(|value| value.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = Unlisted;

            fn from_str(text: &str) -> Result<$name, Unlisted> {
                $name::parse(text).ok_or_else(|| Unlisted { got: text.to_string(), listed: $name::listed() })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

spelled!(
    /// PULL hooks run on a schedule (or on demand) and return records; PUSH hooks receive
    /// change events.
    HookType { Pull = "PULL", Push = "PUSH" }
);

spelled!(
    /// Where an execution is in its life.
    ExecutionStatus {
        /// Waiting for a worker.
        Queued = "queued",
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
        TimedOut = "timed_out",
        /// A scheduled run that did not start (its reason is its error).
        Skipped = "skipped",
    }
);

impl ExecutionStatus {
    /// Queued or running: not finished.
    pub fn is_unfinished(self) -> bool {
        matches!(self, ExecutionStatus::Queued | ExecutionStatus::Running)
    }
}

spelled!(
    /// What started an execution.
    Trigger {
        /// `POST /hooks/{id}/run`.
        Manual = "manual",
        Schedule = "schedule",
        /// A change event (PUSH).
        Event = "event",
    }
);

spelled!(
    /// What happened to an entity.
    ChangeType { Create = "create", Update = "update", Delete = "delete" }
);

spelled!(
    /// The language a hook is written in.
    Language {
        JavaScript = "javascript",
        /// Run as the JavaScript left when its types are blanked.
        TypeScript = "typescript",
    }
);

impl Language {
    /// The name a hook called `name` runs under in this language (`people.ts`): the
    /// runtime reads the language from a hook's file name.
    pub fn file_name(self, name: &str) -> String {
        let extension = match self {
            Language::JavaScript => "js",
            Language::TypeScript => "ts",
        };
        format!("{name}.{extension}")
    }
}

spelled!(
    /// What a sync would do with one record (a sync's plan).
    PlannedAction {
        Create = "create",
        Update = "update",
        Unchanged = "unchanged",
        Delete = "delete",
        /// Refused: nothing of it would be written.
        Error = "error",
    }
);

spelled!(
    /// The intervals a PULL hook can run at.
    Interval {
        Minutes15 = "15m",
        Minutes30 = "30m",
        Hour1 = "1h",
        Hours6 = "6h",
        Hours12 = "12h",
        Hours24 = "24h",
    }
);

impl Interval {
    pub fn minutes(self) -> u32 {
        match self {
            Interval::Minutes15 => 15,
            Interval::Minutes30 => 30,
            Interval::Hour1 => 60,
            Interval::Hours6 => 360,
            Interval::Hours12 => 720,
            Interval::Hours24 => 1440,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_is_spelled_one_way_and_read_back() {
        for value in HookType::ALL {
            assert_eq!(HookType::parse(value.as_str()), Some(*value));
        }
        for value in ExecutionStatus::ALL {
            assert_eq!(ExecutionStatus::parse(value.as_str()), Some(*value));
            assert_eq!(serde_json::to_value(value).unwrap(), serde_json::json!(value.as_str()));
        }
        assert_eq!(Interval::listed(), "15m, 30m, 1h, 6h, 12h, 24h");
        assert_eq!("PULL".parse::<HookType>(), Ok(HookType::Pull));
        assert_eq!("pull".parse::<HookType>().unwrap_err().to_string(), "must be one of PULL, PUSH, got \"pull\"");
        let read: Vec<ChangeType> = serde_json::from_str(r#"["create","delete"]"#).unwrap();
        assert_eq!(read, [ChangeType::Create, ChangeType::Delete]);
        assert!(serde_json::from_str::<Trigger>(r#""cron""#).is_err());
    }
}

spelled!(
    /// What an API key may do: `{resource}:read|write` for the workforce resources, the
    /// reference data and integrations; `forecast:read` and `executions:read`.
    Scope {
        EmployeesRead = "employees:read",
        EmployeesWrite = "employees:write",
        ContractorsRead = "contractors:read",
        ContractorsWrite = "contractors:write",
        VacanciesRead = "vacancies:read",
        VacanciesWrite = "vacancies:write",
        TeamsRead = "teams:read",
        TeamsWrite = "teams:write",
        ProjectsRead = "projects:read",
        ProjectsWrite = "projects:write",
        AssignmentsRead = "assignments:read",
        AssignmentsWrite = "assignments:write",
        ForecastRead = "forecast:read",
        WorkTypesRead = "work-types:read",
        WorkTypesWrite = "work-types:write",
        AdjustmentsRead = "adjustments:read",
        AdjustmentsWrite = "adjustments:write",
        JobRolesRead = "job-roles:read",
        JobRolesWrite = "job-roles:write",
        CustomAttributesRead = "custom-attributes:read",
        CustomAttributesWrite = "custom-attributes:write",
        ExchangeRatesRead = "exchange-rates:read",
        ExchangeRatesWrite = "exchange-rates:write",
        IntegrationsRead = "integrations:read",
        IntegrationsWrite = "integrations:write",
        ExecutionsRead = "executions:read",
    }
);
