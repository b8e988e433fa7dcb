//! Any text: parsing never panics, and a tree that parses prints to text
//! that parses back to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (tree, errors) = fpnna_dsl::parse(text);
    if errors.is_empty() {
        let printed = fpnna_dsl::print(&tree);
        let (again, errors) = fpnna_dsl::parse(&printed);
        assert!(errors.is_empty(), "printed text does not parse: {errors:?}\n{printed}");
        assert_eq!(again, tree, "print/parse changed the tree");
    }
});
