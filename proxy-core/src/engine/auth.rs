//! HTTP Basic authentication against the configuration's `userlist`s: the
//! `http_auth(L)` and `http_auth_group(L)` fetches read
//! [`Userlists::authenticate`], and `http-request auth` answers 401 with
//! [`challenge`].
//!
//! Passwords are `insecure-password` text or `password` hashes in crypt(3)'s
//! SHA-256 (`$5$`) and SHA-512 (`$6$`) formats, verified with the sha-crypt
//! crate. Other hash schemes (DES, MD5 `$1$`, bcrypt, yescrypt) are not
//! verified: their users never authenticate, and [`Userlists::warnings`]
//! says so at start-up.

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};
use proxy_config::{Config, Password};
use sha_crypt::{PasswordVerifier, ShaCrypt};

use crate::h1::error_page;

/// One user: how to check the password, and the groups it belongs to.
#[derive(Debug, Clone)]
struct UserEntry {
    password: Option<Password>,
    groups: Vec<String>,
}

/// Every userlist of a configuration, by name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Userlists {
    lists: HashMap<String, HashMap<String, UserEntry>>,
    warnings: Vec<String>,
}

impl Userlists {
    /// Collects the userlists of `config`: a user's groups are those its
    /// `groups` lists plus those whose `users` list names it.
    pub(crate) fn build(config: &Config) -> Userlists {
        let mut out = Userlists::default();
        for list in &config.userlists {
            let mut users = HashMap::new();
            for user in &list.users {
                let u = &user.value;
                let mut groups = u.groups.clone();
                for g in &list.groups {
                    if g.value.users.contains(&u.name) && !groups.contains(&g.value.name) {
                        groups.push(g.value.name.clone());
                    }
                }
                if let Some(Password::Hashed(hash)) = &u.password {
                    if !supported_hash(hash) {
                        out.warnings.push(format!(
                            "{}: userlist '{}': the password hash of user '{}' is not in \
                             crypt's SHA-256 ($5$) or SHA-512 ($6$) format, which are the \
                             only ones supported; this user can never authenticate",
                            user.span, list.name.value, u.name
                        ));
                    }
                }
                users.insert(
                    u.name.clone(),
                    UserEntry {
                        password: u.password.clone(),
                        groups,
                    },
                );
            }
            out.lists.insert(list.name.value.clone(), users);
        }
        out
    }

    /// What the engine cannot honour, as `file:line:col: message`.
    pub(crate) fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The groups of the user whose Basic credentials `authorization` (the
    /// `Authorization` field's value) are valid in userlist `list`, if they
    /// are.
    pub(crate) fn authenticate(&self, list: &str, authorization: &str) -> Option<&[String]> {
        let (user, password) = basic_credentials(authorization)?;
        let entry = self.lists.get(list)?.get(&user)?;
        let valid = match entry.password.as_ref()? {
            Password::Insecure(text) => text.as_bytes() == password.as_bytes(),
            Password::Hashed(hash) => {
                supported_hash(hash)
                    && ShaCrypt::default()
                        .verify_password(password.as_bytes(), hash.as_str())
                        .is_ok()
            }
        };
        valid.then_some(entry.groups.as_slice())
    }
}

/// Whether `hash` is in a format this module verifies.
fn supported_hash(hash: &str) -> bool {
    hash.starts_with("$5$") || hash.starts_with("$6$")
}

/// `(user, password)` from `Basic BASE64(user:password)`; the scheme is
/// case-insensitive and the user ends at the first colon, as in HAProxy.
fn basic_credentials(authorization: &str) -> Option<(String, String)> {
    let (scheme, encoded) = authorization.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = super::stats_view::base64_decode(encoded.trim())?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// HAProxy's 401 page asking for credentials in `realm`.
pub(crate) fn challenge(realm: &str) -> Bytes {
    let page = error_page(401);
    let split = page
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(page.len(), |i| i + 2);
    let (head, body) = page.split_at(split);
    let mut out = BytesMut::with_capacity(page.len() + realm.len() + 40);
    out.extend_from_slice(head);
    out.extend_from_slice(b"www-authenticate: Basic realm=\"");
    // A quote or a line break would end the field early: HAProxy's realm is
    // one configuration word, so such characters are dropped.
    out.extend(
        realm
            .bytes()
            .filter(|b| !matches!(b, b'"' | b'\\' | b'\r' | b'\n')),
    );
    out.extend_from_slice(b"\"\r\n");
    out.extend_from_slice(body);
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA512: &str = "$6$saltsalt$As4wrv0kZlfch1du9WeH7qhskyLriQWySXrZzynnvi46nFnNxjdpl6ksRegrrKexvhIa/Iny8S8uF3fVWTMuC1";
    const SHA256: &str = "$5$pepper$96b3p/iR.RHgEXSZ4.kwpl.PbjCRp18VpfZTkkVgPo3";

    fn lists() -> Userlists {
        let text = format!(
            "userlist L\n    group admins users alice\n    group ops\n    \
             user alice password {SHA512}\n    user bob insecure-password plain groups ops\n    \
             user carol password {SHA256}\n    user dave password $1$xy$qR6yTToQlC/PywRi9VDFk1\n\
             defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    \
             timeout server 1s\nbackend b\n    server s 127.0.0.1:1\n"
        );
        let config = proxy_config::parse_str("t.cfg", &text, &|_| None)
            .unwrap()
            .config;
        Userlists::build(&config)
    }

    fn basic(cred: &str) -> String {
        // The stats page's decoder is the inverse of this tiny encoder.
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::from("Basic ");
        for chunk in cred.as_bytes().chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[test]
    fn crypt_hashes_and_plain_passwords_authenticate_with_their_groups() {
        let l = lists();
        assert_eq!(
            l.authenticate("L", &basic("alice:s3cret")),
            Some(&["admins".to_owned()][..])
        );
        assert_eq!(
            l.authenticate("L", &basic("bob:plain")),
            Some(&["ops".to_owned()][..])
        );
        assert_eq!(l.authenticate("L", &basic("carol:hunter2")), Some(&[][..]));
        // Scheme case does not matter.
        assert!(
            l.authenticate("L", &basic("bob:plain").replace("Basic", "bAsIc"))
                .is_some()
        );
    }

    #[test]
    fn wrong_or_malformed_credentials_do_not() {
        let l = lists();
        for bad in [
            basic("alice:wrong"),
            basic("bob:plain:x"),
            basic("nobody:plain"),
            basic("bob"),
            "Basic !!!".to_owned(),
            "Bearer abc".to_owned(),
            String::new(),
        ] {
            assert_eq!(l.authenticate("L", &bad), None, "{bad}");
        }
        assert_eq!(l.authenticate("other", &basic("bob:plain")), None);
        // MD5-crypt is not verified, and said so.
        assert_eq!(l.authenticate("L", &basic("dave:md5pass")), None);
        assert_eq!(l.warnings().len(), 1);
        assert!(l.warnings()[0].contains("user 'dave'"));
    }

    #[test]
    fn challenge_is_haproxys_401_page_with_the_realm() {
        let page = challenge("My \"Realm\"");
        let text = std::str::from_utf8(&page).unwrap();
        assert!(text.starts_with(
            "HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\n\
             content-type: text/html\r\nwww-authenticate: Basic realm=\"My Realm\"\r\n\r\n\
             <html><body><h1>401 Unauthorized</h1>"
        ));
    }
}
