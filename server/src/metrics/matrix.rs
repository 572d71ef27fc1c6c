//! Prometheus' JSON answers: a `query_range` matrix, and the error body it sends with a
//! failure status.
//!
//! Sample values are strings and may be `NaN`, `+Inf` or `-Inf` (a rate over a counter that
//! did not move, a division by zero): those points are left out, never turned into a panic or
//! into JSON that the browser cannot read.

use jiff::Timestamp;
use serde::Deserialize;
use std::collections::BTreeMap;

/// One series of a matrix: its labels and its finite points in time order.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub points: Vec<(Timestamp, f64)>,
}

/// Why a 200 body is not a matrix.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    #[error("not JSON of the query API: {0}")]
    Json(#[from] serde_json::Error),
    #[error("status {status:?}: {error}")]
    NotSuccess { status: String, error: String },
    #[error("result type {0:?}, not a matrix")]
    NotMatrix(String),
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    #[serde(default)]
    result: Vec<RawSeries>,
}

#[derive(Deserialize)]
struct RawSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// The series of a `query_range` response body.
pub fn parse(body: &[u8]) -> Result<Vec<Series>, MatrixError> {
    let envelope: Envelope = serde_json::from_slice(body)?;
    if envelope.status != "success" {
        let error = format!("{}: {}", envelope.error_type.unwrap_or_default(), envelope.error.unwrap_or_default());
        return Err(MatrixError::NotSuccess { status: envelope.status, error });
    }
    let data = envelope.data.ok_or_else(|| MatrixError::NotMatrix("none".into()))?;
    if data.result_type != "matrix" {
        return Err(MatrixError::NotMatrix(data.result_type));
    }
    Ok(data
        .result
        .into_iter()
        .map(|raw| Series {
            labels: raw.metric,
            points: raw
                .values
                .into_iter()
                .filter_map(|(t, v)| {
                    let value = v.parse::<f64>().ok().filter(|v| v.is_finite())?;
                    let time = Timestamp::from_millisecond((t * 1000.0).round() as i64).ok()?;
                    Some((time, value))
                })
                .collect(),
        })
        .collect())
}

/// `(errorType, error)` of Prometheus' error body, if the body is one.
pub fn error_body(body: &[u8]) -> Option<(String, String)> {
    let envelope: Envelope = serde_json::from_slice(body).ok()?;
    (envelope.status == "error").then(|| (envelope.error_type.unwrap_or_default(), envelope.error.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_matrix_parses_with_labels_and_points() {
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"namespace":"spark-jobs","pod":"spark-pi-exec-3","container":"spark-kubernetes-executor"},
             "values":[[1735819200,"0.734"],[1735819215.5,"0.812"]]}]}}"#;
        let series = parse(body).unwrap();
        assert_eq!(series.len(), 1);
        assert_eq!(series[0].labels["pod"], "spark-pi-exec-3");
        assert_eq!(series[0].points[0], (Timestamp::from_second(1_735_819_200).unwrap(), 0.734));
        assert_eq!(series[0].points[1].0, Timestamp::from_millisecond(1_735_819_215_500).unwrap());
    }

    #[test]
    fn nan_and_infinite_values_are_left_out() {
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"pod":"p"},"values":[[1,"NaN"],[2,"+Inf"],[3,"-Inf"],[4,"0.5"],[5,"garbage"]]}]}}"#;
        let series = parse(body).unwrap();
        assert_eq!(series[0].points, vec![(Timestamp::from_second(4).unwrap(), 0.5)]);
    }

    #[test]
    fn an_empty_matrix_is_no_series() {
        assert!(parse(br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#).unwrap().is_empty());
    }

    #[test]
    fn what_is_not_a_matrix_is_an_error() {
        assert!(matches!(parse(b"<html>bad gateway</html>"), Err(MatrixError::Json(_))));
        assert!(matches!(parse(br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#), Err(MatrixError::NotMatrix(_))));
        assert!(matches!(
            parse(br#"{"status":"error","errorType":"bad_data","error":"parse error"}"#),
            Err(MatrixError::NotSuccess { .. })
        ));
        assert!(matches!(
            parse(br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[["x","1"]]}]}}"#),
            Err(MatrixError::Json(_))
        ));
    }

    #[test]
    fn error_bodies_give_their_type_and_message() {
        let body = br#"{"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"}"#;
        let (kind, message) = error_body(body).unwrap();
        assert_eq!(kind, "bad_data");
        assert!(message.contains("11,000 points"));
        assert_eq!(error_body(b"502 Bad Gateway"), None);
    }
}
