use serde::{Deserialize, Serialize};

/// What a model is for in a prediction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A small model whose results are fitted.
    Ladder,
    /// The model whose accuracy is predicted; its results only score the prediction.
    Target,
    /// An already trained model used only to calibrate the subset-to-full mapping.
    Anchor,
}

impl Role {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Role::Ladder => "ladder",
            Role::Target => "target",
            Role::Anchor => "anchor",
        }
    }
}

/// One model of a ladder with its size and compute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub name: String,
    /// Parameter count N.
    pub params: f64,
    /// Training tokens D.
    pub tokens: f64,
    /// Training compute in FLOPs: as given, or 6·N·D.
    pub flops: f64,
    /// True when `flops` was given rather than derived as 6·N·D.
    pub flops_given: bool,
    pub role: Role,
}

impl Model {
    /// A model whose compute is `flops` when given, else 6·N·D.
    #[must_use]
    pub fn new(name: &str, params: f64, tokens: f64, flops: Option<f64>, role: Role) -> Model {
        Model {
            name: name.to_owned(),
            params,
            tokens,
            flops: flops.unwrap_or(6.0 * params * tokens),
            flops_given: flops.is_some(),
            role,
        }
    }
}
