//! NIR, the neuromorphic intermediate representation that snnTorch, Norse,
//! Rockpool, Sinabs and Lava exchange networks in: its HDF5 files read and
//! written ([`read`], [`write`]), a graph imported as an `.fpn` source with
//! its weights in CSV files beside it ([`import`]), and a network IR
//! exported as a graph ([`export`]). docs/nir.md gives every conversion.

mod export;
mod graph;
mod h5;
mod import;

pub use export::export;
pub use graph::{Array, Graph, Node, Padding};
pub use h5::{read, write};
pub use import::{Imported, import};

/// Why a NIR file cannot be read, imported or written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NirError {
    /// The HDF5 file is malformed or not laid out as NIR.
    #[error("{path}: {what}")]
    Format {
        /// The HDF5 path of the offending group or dataset.
        path: String,
        /// What is wrong.
        what: String,
    },
    /// A node cannot be imported (or written).
    #[error("node `{node}`: {what}")]
    Node {
        /// The node's name (`block.lif` inside nested graphs).
        node: String,
        /// What is wrong.
        what: String,
    },
    /// A population or projection has no NIR equivalent.
    #[error("cannot export `{what}`: {why}")]
    Export {
        /// The population or projection.
        what: String,
        /// Why.
        why: String,
    },
}
