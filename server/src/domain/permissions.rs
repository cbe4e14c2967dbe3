//! What each role may do. `decide` checks commands against this, and the views tell clients the
//! same answer, so the rule exists once.

use kipina_proto::{Permissions, Role};

/// The permissions of `role`.
pub fn permissions(role: Role) -> Permissions {
    match role {
        Role::Facilitator => Permissions { contribute: true, change_any_card: true, facilitate: true },
        Role::Participant => Permissions { contribute: true, change_any_card: false, facilitate: false },
        Role::Observer => Permissions { contribute: false, change_any_card: false, facilitate: false },
    }
}
