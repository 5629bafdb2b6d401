//! Recording a run's HTTP exchanges and answering a later run from them
//! (`hook run|plan|test --record DIR`, `--replay DIR`), so a hook can be run offline and
//! repeatably.
//!
//! A [`Recorder`] stands between the hook and the real transport and keeps every exchange,
//! with every secret's value redacted (headers, URLs and bodies, both ways) before it is
//! kept. A [`Replayer`] answers each request with the first recorded exchange not yet used
//! whose method, URL and body match (a JSON body by value, any other by text), the URL and
//! body being redacted first as the recording was; headers are not matched (they carry the
//! secrets). A request with no answer left fails with an error naming it.
//!
//! The recording is one JSON file (`http.json`), written for people to read and edit: a JSON
//! body is kept as JSON (`json`), any other as text (`body`).

use std::sync::{Arc, Mutex};

use flowstate_egress::{EgressError, InboundResponse, OutboundRequest, Transport, TransportFuture};
use flowstate_runtime::Redactor;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The file a recording is kept in, inside its folder.
pub const RECORDING_FILE: &str = "http.json";

/// Every exchange of a run, in the order the hook made them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    pub exchanges: Vec<Exchange>,
}

/// One request and what came back: a response, or the error the hook was given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    pub request: RecordedRequest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<RecordedResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    #[serde(flatten)]
    pub body: Body,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedResponse {
    pub status: u16,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    #[serde(flatten)]
    pub body: Body,
}

/// A body: JSON kept as JSON, anything else as text, or none.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Body {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl Body {
    /// `bytes` as a body, each secret redacted.
    fn of(bytes: &[u8], redactor: &Redactor) -> Body {
        if bytes.is_empty() {
            return Body::default();
        }
        let text = String::from_utf8_lossy(bytes);
        match serde_json::from_str::<Value>(&text) {
            Ok(mut json) => {
                redactor.redact_json(&mut json);
                Body { json: Some(json), body: None }
            }
            Err(_) => Body { json: None, body: Some(redactor.redact(&text).into_owned()) },
        }
    }

    fn bytes(&self) -> Vec<u8> {
        match (&self.json, &self.body) {
            (Some(json), _) => json.to_string().into_bytes(),
            (None, Some(text)) => text.clone().into_bytes(),
            (None, None) => Vec::new(),
        }
    }
}

impl Recording {
    pub fn from_json(text: &str) -> Result<Recording, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("recordings serialize") + "\n"
    }
}

fn redact_headers(headers: &[(String, String)], redactor: &Redactor) -> Vec<(String, String)> {
    headers.iter().map(|(name, value)| (name.clone(), redactor.redact(value).into_owned())).collect()
}

fn recorded_request(request: &OutboundRequest, redactor: &Redactor) -> RecordedRequest {
    RecordedRequest {
        method: request.method.as_str().to_string(),
        url: redactor.redact(&request.url).into_owned(),
        headers: redact_headers(&request.headers, redactor),
        body: Body::of(request.body.as_deref().unwrap_or_default(), redactor),
    }
}

/// Passes each request on to `inner` and keeps the exchange, secrets redacted.
pub struct Recorder {
    inner: Arc<dyn Transport>,
    redactor: Redactor,
    exchanges: Mutex<Vec<Exchange>>,
}

impl Recorder {
    pub fn new(inner: Arc<dyn Transport>, redactor: Redactor) -> Recorder {
        Recorder { inner, redactor, exchanges: Mutex::new(Vec::new()) }
    }

    /// What was recorded so far.
    pub fn recording(&self) -> Recording {
        Recording { exchanges: self.exchanges.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone() }
    }
}

impl Transport for Recorder {
    fn send(&self, request: OutboundRequest) -> TransportFuture<'_> {
        Box::pin(async move {
            let recorded = recorded_request(&request, &self.redactor);
            let answer = self.inner.send(request).await;
            let (response, error) = match &answer {
                Ok(response) => (
                    Some(RecordedResponse {
                        status: response.status,
                        headers: redact_headers(&response.headers, &self.redactor),
                        body: Body::of(&response.body, &self.redactor),
                    }),
                    None,
                ),
                Err(error) => (None, Some(self.redactor.redact(&error.to_string()).into_owned())),
            };
            self.exchanges.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(Exchange {
                request: recorded,
                response,
                error,
            });
            answer
        })
    }
}

/// Answers requests from a recording.
pub struct Replayer {
    exchanges: Vec<Exchange>,
    used: Mutex<Vec<bool>>,
    redactor: Redactor,
    /// Every request asked, answered or not, redacted (what a PUSH hook sent, for its test).
    asked: Mutex<Vec<RecordedRequest>>,
}

impl Replayer {
    /// `redactor` redacts each request as the recording's were (the same secrets).
    pub fn new(recording: Recording, redactor: Redactor) -> Replayer {
        let used = Mutex::new(vec![false; recording.exchanges.len()]);
        Replayer { exchanges: recording.exchanges, used, redactor, asked: Mutex::new(Vec::new()) }
    }

    /// The requests asked so far, in order, secrets redacted.
    pub fn asked(&self) -> Vec<RecordedRequest> {
        self.asked.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    fn answer(&self, request: &OutboundRequest) -> Result<InboundResponse, EgressError> {
        let asked = recorded_request(request, &self.redactor);
        self.asked.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(asked.clone());
        let matches = |exchange: &Exchange| {
            exchange.request.method.eq_ignore_ascii_case(&asked.method)
                && exchange.request.url == asked.url
                && same_body(&exchange.request.body, &asked.body)
        };
        let mut used = self.used.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let found = self.exchanges.iter().enumerate().find(|(index, exchange)| !used[*index] && matches(exchange));
        let Some((index, exchange)) = found else {
            let recorded = self.exchanges.iter().filter(|exchange| matches(exchange)).count();
            let more = match recorded {
                0 => String::new(),
                1 => " (recorded once, already answered)".to_string(),
                n => format!(" (recorded {n} times, each already answered)"),
            };
            return Err(EgressError::NotRecorded { method: request.method, url: asked.url, more });
        };
        used[index] = true;
        match (&exchange.response, &exchange.error) {
            (Some(response), _) => Ok(InboundResponse {
                status: response.status,
                headers: response.headers.clone(),
                body: response.body.bytes(),
            }),
            (None, Some(error)) => Err(EgressError::Recorded(error.clone())),
            (None, None) => Err(EgressError::Recorded(format!(
                "the recording of {} {} has neither a response nor an error",
                exchange.request.method, exchange.request.url
            ))),
        }
    }
}

fn same_body(recorded: &Body, asked: &Body) -> bool {
    match (&recorded.json, &asked.json) {
        (Some(recorded), Some(asked)) => recorded == asked,
        _ => recorded.bytes() == asked.bytes(),
    }
}

impl Transport for Replayer {
    fn send(&self, request: OutboundRequest) -> TransportFuture<'_> {
        let answer = self.answer(&request);
        Box::pin(async move { answer })
    }
}

#[cfg(test)]
mod tests {
    use flowstate_egress::Method;

    use super::*;

    fn request(method: Method, url: &str, body: Option<&str>) -> OutboundRequest {
        let mut request = OutboundRequest::new(method, url);
        request.headers.push(("authorization".into(), "Bearer s3cret-value".into()));
        request.body = body.map(|body| body.as_bytes().to_vec());
        request
    }

    fn redactor() -> Redactor {
        Redactor::new([("api_key", "s3cret-value")])
    }

    fn exchange(url: &str, body: Option<Value>, answer: &str) -> Exchange {
        Exchange {
            request: RecordedRequest {
                method: "POST".into(),
                url: url.into(),
                headers: Vec::new(),
                body: Body { json: body, body: None },
            },
            response: Some(RecordedResponse {
                status: 200,
                headers: Vec::new(),
                body: Body { json: None, body: Some(answer.into()) },
            }),
            error: None,
        }
    }

    #[test]
    fn requests_are_answered_by_method_url_and_body_each_answer_once_in_order() {
        let recording = Recording {
            exchanges: vec![
                exchange("https://a.example/x", Some(serde_json::json!({ "a": 1, "b": 2 })), "first"),
                exchange("https://a.example/x", Some(serde_json::json!({ "a": 1, "b": 2 })), "second"),
                exchange("https://a.example/x", Some(serde_json::json!({ "a": 9 })), "other"),
            ],
        };
        let replayer = Replayer::new(recording, redactor());
        let body = |answer: Result<InboundResponse, EgressError>| String::from_utf8(answer.unwrap().body).unwrap();
        // JSON by value: key order and spacing do not matter.
        let same = request(Method::Post, "https://a.example/x", Some(r#"{"b":2, "a":1}"#));
        assert_eq!(body(replayer.answer(&same)), "first");
        assert_eq!(body(replayer.answer(&same)), "second");
        let error = replayer.answer(&same).unwrap_err().to_string();
        assert_eq!(
            error,
            "no recorded answer for POST https://a.example/x (recorded 2 times, each already answered): record the run again with --record"
        );
        assert_eq!(body(replayer.answer(&request(Method::Post, "https://a.example/x", Some(r#"{"a":9}"#)))), "other");
        let error = replayer.answer(&request(Method::Get, "https://a.example/x", None)).unwrap_err().to_string();
        assert!(error.starts_with("no recorded answer for GET https://a.example/x:"), "{error}");
    }

    #[test]
    fn a_secret_in_the_url_is_redacted_before_matching() {
        let recording =
            Recording { exchanges: vec![exchange("https://a.example/x?key=[REDACTED:api_key]", None, "answered")] };
        let replayer = Replayer::new(recording, redactor());
        let asked = request(Method::Post, "https://a.example/x?key=s3cret-value", None);
        assert_eq!(replayer.answer(&asked).unwrap().body, b"answered");
    }

    #[test]
    fn a_recording_reads_back_as_it_was_written() {
        let recording = Recording {
            exchanges: vec![exchange("https://a.example/x", Some(serde_json::json!({ "a": [1, 2] })), "text")],
        };
        let written = recording.to_json();
        assert!(written.contains("\"json\": {"), "a JSON body is kept as JSON: {written}");
        assert_eq!(Recording::from_json(&written).unwrap(), recording);
        let unknown = written.replace("\"status\"", "\"statu\"");
        assert!(Recording::from_json(&unknown).unwrap_err().to_string().contains("statu"));
    }
}
