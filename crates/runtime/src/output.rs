//! What a PULL page returns, parsed: `{ records: [{ externalId, data }], more?, meta? }`.

use std::fmt;

use serde_json::{Map, Value};

/// A record's id in the external system: a non-blank string (a number is accepted and
/// written as a string).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ExternalId(String);

impl ExternalId {
    /// Parses the JSON value a hook gave as `externalId`.
    ///
    /// ```
    /// use flowstate_runtime::ExternalId;
    /// use serde_json::json;
    /// assert_eq!(ExternalId::parse(&json!(42)).unwrap().as_str(), "42");
    /// assert_eq!(ExternalId::parse(&json!("emp-1")).unwrap().as_str(), "emp-1");
    /// assert!(ExternalId::parse(&json!(" ")).is_err());
    /// ```
    pub fn parse(value: &Value) -> Result<ExternalId, &'static str> {
        match value {
            Value::String(text) if text.trim().is_empty() => Err("must be a non-empty string"),
            Value::String(text) => Ok(ExternalId(text.clone())),
            Value::Number(number) => Ok(ExternalId(number.to_string())),
            Value::Null => Err("is missing"),
            _ => Err("must be a non-empty string"),
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One record of a page.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HookRecord {
    pub external_id: ExternalId,
    pub data: Map<String, Value>,
}

/// A valid PULL page.
#[derive(Clone, Debug, PartialEq)]
pub struct PageOutput {
    pub records: Vec<HookRecord>,
    pub more: bool,
    /// The state forwarded as `ctx.meta` to the next page.
    pub meta: Option<Value>,
}

/// Why a page's return value is not a valid page; names the first problem's place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputError {
    problems: Vec<String>,
}

impl OutputError {
    /// Every problem found, each naming its place (`records[3].externalId is missing`).
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid hook output: {}", self.problems[0])?;
        match self.problems.len() {
            1 => Ok(()),
            2 => write!(f, " (and 1 more problem)"),
            n => write!(f, " (and {} more problems)", n - 1),
        }
    }
}

impl std::error::Error for OutputError {}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses a page's return value (already converted from JavaScript, where `undefined`
/// became `null` or an absent key). `meta_limit` is the largest `meta` in bytes of JSON.
///
/// ```
/// use flowstate_runtime::parse_page;
/// use serde_json::json;
/// let page = parse_page(json!({ "records": [{ "externalId": 7, "data": {} }], "more": true, "meta": { "page": 2 } }), 65536).unwrap();
/// assert_eq!(page.records[0].external_id.as_str(), "7");
/// let error = parse_page(json!({ "records": [{ "data": {} }] }), 65536).unwrap_err();
/// assert_eq!(error.to_string(), "invalid hook output: records[0].externalId is missing");
/// ```
pub fn parse_page(value: Value, meta_limit: usize) -> Result<PageOutput, OutputError> {
    let mut problems = Vec::new();
    let Value::Object(mut top) = value else {
        return Err(OutputError {
            problems: vec![format!(
                "a PULL hook must return an object {{ records: [...] }}, got {}",
                type_name(&value)
            )],
        });
    };
    let records = match top.remove("records") {
        None | Some(Value::Null) => {
            problems.push("records is missing".to_string());
            Vec::new()
        }
        Some(Value::Array(items)) => items,
        Some(other) => {
            problems.push(format!("records must be an array, got {}", type_name(&other)));
            Vec::new()
        }
    };
    let mut parsed = Vec::with_capacity(records.len());
    for (index, item) in records.into_iter().enumerate() {
        let Value::Object(mut record) = item else {
            problems
                .push(format!("records[{index}] must be an object {{ externalId, data }}, got {}", type_name(&item)));
            continue;
        };
        let external_id = match ExternalId::parse(record.get("externalId").unwrap_or(&Value::Null)) {
            Ok(id) => Some(id),
            Err(problem) => {
                problems.push(format!("records[{index}].externalId {problem}"));
                None
            }
        };
        let data = match record.remove("data") {
            Some(Value::Object(data)) => Some(data),
            None | Some(Value::Null) => {
                problems.push(format!("records[{index}].data is missing"));
                None
            }
            Some(other) => {
                problems.push(format!("records[{index}].data must be an object, got {}", type_name(&other)));
                None
            }
        };
        if let (Some(external_id), Some(data)) = (external_id, data) {
            parsed.push(HookRecord { external_id, data });
        }
    }
    let more = match top.remove("more") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(more)) => more,
        Some(other) => {
            problems.push(format!("more must be a boolean, got {}", type_name(&other)));
            false
        }
    };
    let meta = match top.remove("meta") {
        None | Some(Value::Null) => None,
        Some(meta @ Value::Object(_)) => {
            let size = serde_json::to_vec(&meta).map(|bytes| bytes.len()).unwrap_or(usize::MAX);
            if size > meta_limit {
                problems.push(format!("meta is {size} bytes of JSON, more than the limit of {meta_limit}"));
            }
            Some(meta)
        }
        Some(other) => {
            problems.push(format!("meta must be an object, got {}", type_name(&other)));
            None
        }
    };
    if problems.is_empty() { Ok(PageOutput { records: parsed, more, meta }) } else { Err(OutputError { problems }) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(value: Value) -> Vec<String> {
        parse_page(value, 64).unwrap_err().problems
    }

    #[test]
    fn each_problem_names_its_place() {
        assert_eq!(problems(json!([])), ["a PULL hook must return an object { records: [...] }, got an array"]);
        assert_eq!(problems(json!({})), ["records is missing"]);
        assert_eq!(problems(json!({ "records": {} })), ["records must be an array, got an object"]);
        assert_eq!(
            problems(json!({ "records": [
                { "externalId": "a", "data": {} },
                "x",
                { "externalId": "", "data": {} },
                { "externalId": true, "data": [] },
                { "externalId": "b" },
            ], "more": "yes", "meta": [1] })),
            [
                "records[1] must be an object { externalId, data }, got a string",
                "records[2].externalId must be a non-empty string",
                "records[3].externalId must be a non-empty string",
                "records[3].data must be an object, got an array",
                "records[4].data is missing",
                "more must be a boolean, got a string",
                "meta must be an object, got an array",
            ]
        );
        assert_eq!(
            problems(json!({ "records": [], "meta": { "x": "0123456789".repeat(7) } })),
            ["meta is 78 bytes of JSON, more than the limit of 64"]
        );
    }

    #[test]
    fn defaults_and_numbers() {
        let page = parse_page(json!({ "records": [{ "externalId": 12.5, "data": { "a": 1 } }] }), 64).unwrap();
        assert_eq!(page.records[0].external_id.as_str(), "12.5");
        assert!(!page.more);
        assert_eq!(page.meta, None);
        let error = parse_page(json!({ "records": [{}, {}] }), 64).unwrap_err();
        assert_eq!(error.to_string(), "invalid hook output: records[0].externalId is missing (and 3 more problems)");
    }
}
