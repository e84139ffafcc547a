"""seedfeed's library: file bytes -> entries -> catalogue -> feed documents."""
