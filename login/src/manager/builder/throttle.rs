//! The builder's login-throttle setting.

use super::LoginManagerBuilder;
use crate::throttle::Throttle;

impl LoginManagerBuilder {
    /// The login throttle's settings (on by default with [`Throttle::default`]'s limits;
    /// [`Throttle::off`] turns it off). See [`login::throttle`](crate::throttle).
    pub fn throttle(mut self, throttle: Throttle) -> Self {
        self.throttle = throttle;
        self
    }
}
