//! Generates cronguard's bundled Kubernetes JSON Schemas (see docs/schema.md).
//!
//! One Kubernetes version per build, chosen by the k8s-openapi feature:
//!
//! ```sh
//! cargo run --release --manifest-path tools/schemagen/Cargo.toml --features v1_35 -- schemas/k8s
//! ```
//!
//! (`scripts/schemagen` runs it for every version and rewrites the manifest.)
//!
//! The output is one deflate-compressed, minified JSON bundle per version,
//! `v<major>.<minor>.json.deflate`: `{"kubernetesVersion", "kinds": {"<apiVersion>/<Kind>":
//! "<definition>"}, "$defs": {...}}`. The schemas are the ones k8s-openapi generates from
//! the Kubernetes OpenAPI definitions, "strictified" so they validate as the API server
//! decodes:
//! - `additionalProperties: false` wherever `properties` exist (unknown fields are errors,
//!   as with `kubectl apply --validate=strict`), unless the schema preserves unknown fields;
//! - `x-kubernetes-int-or-string` → an integer or a string; a `Quantity` → a string in the
//!   quantity syntax, or a number;
//! - a container's `image` is required (the API server's validation requires it);
//! - descriptions, formats and other annotations are dropped (size).

use schemars::JsonSchema;
use serde_json::{Map, Value, json};
use std::path::PathBuf;

#[cfg(feature = "v1_33")]
const VERSION: &str = "1.33";
#[cfg(feature = "v1_34")]
const VERSION: &str = "1.34";
#[cfg(feature = "v1_35")]
const VERSION: &str = "1.35";
#[cfg(feature = "v1_36")]
const VERSION: &str = "1.36";
#[cfg(feature = "v1_37")]
const VERSION: &str = "1.37";

/// `resource.Quantity`'s syntax (k8s.io/apimachinery/pkg/api/resource ParseQuantity).
const QUANTITY_PATTERN: &str =
    r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$";

const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const CONTAINER: &str = "io.k8s.api.core.v1.Container";

fn main() {
    let out: PathBuf = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("schemas/k8s"), PathBuf::from);
    let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let mut kinds = Map::new();
    macro_rules! kind {
        ($api_version:literal, $kind:literal, $ty:ty) => {{
            let r = generator.subschema_for::<$ty>();
            let name = <$ty as JsonSchema>::schema_name();
            assert_eq!(
                r.get("$ref").and_then(Value::as_str),
                Some(format!("#/$defs/{name}").as_str()),
                "{} is not a definition reference",
                $kind
            );
            kinds.insert(
                concat!($api_version, "/", $kind).to_string(),
                Value::String(name.into_owned()),
            );
        }};
    }
    use k8s_openapi::api::{apps, autoscaling, batch, core, networking, policy, rbac};
    kind!("batch/v1", "CronJob", batch::v1::CronJob);
    kind!("batch/v1", "Job", batch::v1::Job);
    kind!("v1", "Pod", core::v1::Pod);
    kind!("v1", "PodTemplate", core::v1::PodTemplate);
    kind!("v1", "ReplicationController", core::v1::ReplicationController);
    kind!("v1", "ServiceAccount", core::v1::ServiceAccount);
    kind!("v1", "ConfigMap", core::v1::ConfigMap);
    kind!("v1", "Secret", core::v1::Secret);
    kind!("v1", "Service", core::v1::Service);
    kind!("v1", "Namespace", core::v1::Namespace);
    kind!(
        "v1",
        "PersistentVolumeClaim",
        core::v1::PersistentVolumeClaim
    );
    kind!("apps/v1", "Deployment", apps::v1::Deployment);
    kind!("apps/v1", "DaemonSet", apps::v1::DaemonSet);
    kind!("apps/v1", "StatefulSet", apps::v1::StatefulSet);
    kind!("apps/v1", "ReplicaSet", apps::v1::ReplicaSet);
    kind!("rbac.authorization.k8s.io/v1", "Role", rbac::v1::Role);
    kind!("rbac.authorization.k8s.io/v1", "ClusterRole", rbac::v1::ClusterRole);
    kind!("rbac.authorization.k8s.io/v1", "RoleBinding", rbac::v1::RoleBinding);
    kind!(
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        rbac::v1::ClusterRoleBinding
    );
    kind!(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        networking::v1::NetworkPolicy
    );
    kind!("networking.k8s.io/v1", "Ingress", networking::v1::Ingress);
    kind!(
        "policy/v1",
        "PodDisruptionBudget",
        policy::v1::PodDisruptionBudget
    );
    kind!(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        autoscaling::v2::HorizontalPodAutoscaler
    );

    let mut defs = generator.take_definitions(true);
    for (name, def) in &mut defs {
        strictify(def);
        if name == QUANTITY {
            *def = json!({ "type": ["string", "number"], "pattern": QUANTITY_PATTERN });
        }
        if name == CONTAINER
            && let Some(req) = def.get_mut("required").and_then(Value::as_array_mut)
            && !req.iter().any(|r| r == "image")
        {
            req.push(Value::String("image".into()));
            req.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        }
    }
    let bundle = json!({
        "kubernetesVersion": VERSION,
        "generator": format!("k8s-openapi {}", k8s_openapi_version()),
        "kinds": kinds,
        "$defs": defs,
    });
    let text = serde_json::to_vec(&bundle).expect("serializable");
    let packed = miniz_oxide::deflate::compress_to_vec(&text, 10);
    std::fs::create_dir_all(&out).expect("create output directory");
    let file = out.join(format!("v{VERSION}.json.deflate"));
    std::fs::write(&file, &packed).expect("write bundle");
    eprintln!(
        "{}: {} kinds, {} definitions, {} bytes JSON, {} bytes deflated",
        file.display(),
        kinds_len(&bundle),
        bundle["$defs"].as_object().map_or(0, Map::len),
        text.len(),
        packed.len()
    );
}

fn kinds_len(b: &Value) -> usize {
    b["kinds"].as_object().map_or(0, Map::len)
}

fn k8s_openapi_version() -> &'static str {
    // Pinned in Cargo.toml (`=0.29.0`); the manifest records it for the staleness test.
    "0.29.0"
}

/// Keywords kept; everything else (descriptions, formats, x-kubernetes-* annotations,
/// defaults) is dropped.
const KEPT: &[&str] = &[
    "type",
    "properties",
    "required",
    "items",
    "additionalProperties",
    "$ref",
    "enum",
    "anyOf",
    "oneOf",
    "allOf",
];

/// Strictify one schema in place (iteratively: the schemas nest deeply).
fn strictify(root: &mut Value) {
    let mut stack: Vec<&mut Value> = vec![root];
    while let Some(v) = stack.pop() {
        let Value::Object(obj) = v else { continue };
        let int_or_string = obj
            .get("x-kubernetes-int-or-string")
            .and_then(Value::as_bool)
            == Some(true);
        let preserve = obj
            .get("x-kubernetes-preserve-unknown-fields")
            .and_then(Value::as_bool)
            == Some(true);
        obj.retain(|k, _| KEPT.contains(&k.as_str()));
        if int_or_string && !obj.contains_key("type") && !obj.contains_key("$ref") {
            obj.insert("type".into(), json!(["integer", "string"]));
        }
        if obj.contains_key("properties") && !obj.contains_key("additionalProperties") && !preserve
        {
            obj.insert("additionalProperties".into(), Value::Bool(false));
        }
        for (k, child) in obj.iter_mut() {
            match k.as_str() {
                "properties" => {
                    if let Value::Object(props) = child {
                        stack.extend(props.values_mut());
                    }
                }
                "items" | "additionalProperties" => stack.push(child),
                "anyOf" | "oneOf" | "allOf" => {
                    if let Value::Array(a) = child {
                        stack.extend(a.iter_mut());
                    }
                }
                _ => {}
            }
        }
    }
}
