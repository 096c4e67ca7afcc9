//! tlog-tiles resource paths (`tile::TilePath::parse`): only canonical paths are
//! accepted, so Display must give back the input exactly.
#![no_main]

use glassbox_core::tile::{Tile, TilePath, MAX_TILE_LEVEL, TILE_WIDTH};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(path) = TilePath::parse(text) else {
        return;
    };
    let shown = path.to_string();
    assert_eq!(
        shown, text,
        "a parsed tile path is not its own canonical form"
    );
    assert_eq!(shown.parse::<TilePath>().as_ref(), Ok(&path));
    let width = match path {
        TilePath::Hash(tile) => {
            assert!(tile.level <= MAX_TILE_LEVEL);
            assert_eq!(
                Tile::new(tile.level, tile.index, tile.width).as_ref(),
                Ok(&tile)
            );
            assert!(tile.nodes().len() <= usize::from(tile.width));
            tile.width
        }
        TilePath::Entries { width, .. } => width,
    };
    assert!((1..=TILE_WIDTH).contains(&u64::from(width)));
});
