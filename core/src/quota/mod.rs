//! Quota accounting (see issue 4). Placeholder until the module lands.
