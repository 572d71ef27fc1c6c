//! The compact projection of a node: what the pods table says about where a pod ran.

use kube::api::DynamicObject;

/// A node's instance type, capacity type and zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    pub name: String,
    pub instance_type: Option<String>,
    /// `spot` or `on-demand`.
    pub capacity_type: Option<String>,
    pub zone: Option<String>,
}

impl NodeInfo {
    pub fn from_object(node: &DynamicObject) -> Option<NodeInfo> {
        let labels = node.metadata.labels.as_ref();
        let label = |key: &str| labels.and_then(|l| l.get(key)).cloned();
        let capacity_type = label("karpenter.sh/capacity-type").or_else(|| label("eks.amazonaws.com/capacityType")).map(|c| {
            match c.to_ascii_lowercase().replace('_', "-").as_str() {
                "spot" => "spot".to_string(),
                "on-demand" => "on-demand".to_string(),
                other => other.to_string(),
            }
        });
        Some(NodeInfo {
            name: node.metadata.name.clone()?,
            instance_type: label("node.kubernetes.io/instance-type").or_else(|| label("beta.kubernetes.io/instance-type")),
            capacity_type,
            zone: label("topology.kubernetes.io/zone"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn capacity_type_reads_karpenter_or_eks_labels() {
        let node = |labels| serde_json::from_value::<DynamicObject>(json!({"metadata": {"name": "n", "labels": labels}})).unwrap();
        let eks = NodeInfo::from_object(&node(
            json!({"eks.amazonaws.com/capacityType": "ON_DEMAND", "node.kubernetes.io/instance-type": "m6i.large"}),
        ))
        .unwrap();
        assert_eq!((eks.capacity_type.as_deref(), eks.instance_type.as_deref()), (Some("on-demand"), Some("m6i.large")));
        let karpenter = NodeInfo::from_object(&node(json!({"karpenter.sh/capacity-type": "spot"}))).unwrap();
        assert_eq!(karpenter.capacity_type.as_deref(), Some("spot"));
    }
}
