//! Which side of the pipe we play, and the size limit of each direction.

use std::fmt;

/// Bytes in a frame header: a `u32` length in native byte order.
pub const HEADER_LEN: usize = 4;

/// Largest payload a host may send to the browser: 1 MiB. Both Chromium and Firefox
/// accept exactly 1,048,576 bytes and reject only a length greater than that.
pub const MAX_HOST_TO_BROWSER: u32 = 1024 * 1024;

/// Largest payload the protocol can express from the browser to a host: `u32::MAX`
/// (4 GiB − 1). Browsers refuse far less in practice; see
/// [`CHROMIUM_MAX_BROWSER_TO_HOST`].
pub const MAX_BROWSER_TO_HOST: u32 = u32::MAX;

/// The largest message Chromium delivers to a host: 64 MiB (measured by the repository's
/// browser suite; `browsers/TESTED.md` lists the versions).
/// A host that only serves Chromium can lower its inbound cap to this with
/// [`Limits::with_max_inbound`].
pub const CHROMIUM_MAX_BROWSER_TO_HOST: u32 = 64 * 1024 * 1024;

/// The end of the pipe this process plays. It decides which limit applies to the
/// frames it reads and to the frames it writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// A native-messaging host: reads browser → host frames, writes host → browser frames.
    Host,
    /// The browser's side, for tools and tests that drive a host: reads host → browser
    /// frames, writes browser → host frames.
    Browser,
}

impl Role {
    /// The direction of the frames this role reads.
    pub const fn inbound(self) -> Direction {
        match self {
            Role::Host => Direction::BrowserToHost,
            Role::Browser => Direction::HostToBrowser,
        }
    }

    /// The direction of the frames this role writes.
    pub const fn outbound(self) -> Direction {
        match self {
            Role::Host => Direction::HostToBrowser,
            Role::Browser => Direction::BrowserToHost,
        }
    }
}

/// `host` or `browser`: the names the command line, the docs and the C ABI
/// (`NMF_ROLE_HOST`, `NMF_ROLE_BROWSER`) use.
impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Host => "host",
            Role::Browser => "browser",
        })
    }
}

/// Parses `host` or `browser`.
///
/// ```
/// use nmframe::Role;
/// assert_eq!("browser".parse::<Role>(), Ok(Role::Browser));
/// assert_eq!(Role::Host.to_string(), "host");
/// assert!("client".parse::<Role>().is_err());
/// ```
impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "host" => Ok(Role::Host),
            "browser" => Ok(Role::Browser),
            other => Err(format!("{other:?} is not a role: host or browser")),
        }
    }
}

/// Which way a frame travels. Each direction has its own protocol limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the browser to the host: up to `u32::MAX` bytes.
    BrowserToHost,
    /// From the host to the browser: up to 1 MiB.
    HostToBrowser,
}

impl Direction {
    /// The largest payload the browsers allow in this direction.
    pub const fn protocol_max(self) -> u32 {
        match self {
            Direction::BrowserToHost => MAX_BROWSER_TO_HOST,
            Direction::HostToBrowser => MAX_HOST_TO_BROWSER,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::BrowserToHost => "browser → host",
            Direction::HostToBrowser => "host → browser",
        })
    }
}

/// The size caps for one role: what it accepts when reading and what it allows itself
/// to write. Both start at the protocol's limits for that role and can only be lowered.
///
/// ```
/// use nmframe::{Limits, Role, CHROMIUM_MAX_BROWSER_TO_HOST};
///
/// let limits = Limits::host().with_max_inbound(CHROMIUM_MAX_BROWSER_TO_HOST);
/// assert_eq!(limits.role(), Role::Host);
/// assert_eq!(limits.max_inbound(), 64 << 20);
/// assert_eq!(limits.max_outbound(), 1 << 20);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    role: Role,
    max_inbound: u32,
    max_outbound: u32,
}

impl Limits {
    /// The protocol limits for `role`.
    pub const fn for_role(role: Role) -> Self {
        Limits {
            role,
            max_inbound: role.inbound().protocol_max(),
            max_outbound: role.outbound().protocol_max(),
        }
    }

    /// The limits of a native-messaging host: reads up to 4 GiB − 1, writes up to 1 MiB.
    pub const fn host() -> Self {
        Self::for_role(Role::Host)
    }

    /// The limits of the browser's side: reads up to 1 MiB, writes up to 4 GiB − 1.
    pub const fn browser() -> Self {
        Self::for_role(Role::Browser)
    }

    /// Lowers the cap on frames read. A value above the protocol limit of the inbound
    /// direction is clamped to it: the browsers would never accept more.
    #[must_use]
    pub const fn with_max_inbound(mut self, max: u32) -> Self {
        let protocol = self.role.inbound().protocol_max();
        self.max_inbound = if max < protocol { max } else { protocol };
        self
    }

    /// Lowers the cap on frames written, clamped to the outbound protocol limit.
    #[must_use]
    pub const fn with_max_outbound(mut self, max: u32) -> Self {
        let protocol = self.role.outbound().protocol_max();
        self.max_outbound = if max < protocol { max } else { protocol };
        self
    }

    /// The role these limits were made for.
    pub const fn role(&self) -> Role {
        self.role
    }

    /// The largest payload accepted when reading.
    pub const fn max_inbound(&self) -> u32 {
        self.max_inbound
    }

    /// The largest payload allowed when writing.
    pub const fn max_outbound(&self) -> u32 {
        self.max_outbound
    }

    /// The inbound cap together with its direction, as a decoder needs it.
    pub const fn inbound(&self) -> Cap {
        Cap {
            max: self.max_inbound,
            direction: self.role.inbound(),
        }
    }

    /// The outbound cap together with its direction, as an encoder needs it.
    pub const fn outbound(&self) -> Cap {
        Cap {
            max: self.max_outbound,
            direction: self.role.outbound(),
        }
    }
}

impl Default for Limits {
    /// A host's limits: the common case.
    fn default() -> Self {
        Self::host()
    }
}

/// One direction's cap: the largest payload allowed, and which way it travels (for
/// error messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cap {
    /// The largest payload allowed, in bytes.
    pub max: u32,
    /// The direction the cap applies to.
    pub direction: Direction,
}

impl Cap {
    /// The protocol limit of `direction`.
    pub const fn protocol(direction: Direction) -> Self {
        Cap {
            max: direction.protocol_max(),
            direction,
        }
    }
}
