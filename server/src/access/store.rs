//! The access records of a data directory (`DATA/access/`): token hashes, join codes and the
//! server's key for link secrets.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use hmac::{Hmac, Mac};
use kipina_proto::{BoardId, ParticipantId, Role};
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use super::count::{self, RecordCount};

use crate::store::release::{OpenedSled, Release};

type HmacSha256 = Hmac<Sha256>;

/// The prefix of participant tokens, so a leaked one is recognisable (and greppable).
const TOKEN_PREFIX: &str = "kp_";
/// Characters of join codes: no 0/O, 1/I/L, so they survive being read aloud and typed.
const CODE_ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE_LEN: usize = 6;

/// Why an access record could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("access records: {0}")]
    Sled(#[from] sled::Error),
    #[error("access records: {0}")]
    Io(#[from] io::Error),
    #[error("access records are damaged: {0}")]
    Damaged(String),
    /// A file of the access records cannot be read or is damaged: which file, and what to do.
    #[error("{path} {problem}. {REMEDY}")]
    Unreadable { path: String, problem: String },
    /// Refused for now, before anything was written: the disk is too full to write safely
    /// (sled, which holds the records, cannot go on after a write that fails).
    #[error(transparent)]
    DiskFull(#[from] crate::disk_space::DiskFull),
}

/// What to do about damaged access records (the event log is not affected by them).
const REMEDY: &str = "The access directory holds the server key, the participants' tokens and the join codes \
     (the boards themselves are in the event log and are not affected): restore the access directory from a \
     backup, or move it aside to start with a new key, after which every link, token and join code handed out \
     so far stops working and everyone joins again";

/// What an invitation string leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invitation {
    pub board: BoardId,
    pub role: Role,
}

/// Token hashes, join codes and the server key.
#[derive(Debug)]
pub struct AccessStore {
    db: sled::Db,
    tokens: sled::Tree,
    /// HMAC of a join code (under the server key) → its board.
    code_macs: sled::Tree,
    /// Board → which derivation of its code it got (a 32-bit number; the code is derived again).
    code_attempts: sled::Tree,
    db_file: File,
    /// The records' directory, whose file system's free space is checked before each write.
    records: PathBuf,
    /// How many records the last sync left (see `count`); held while records are added or
    /// removed, so the file follows the records in order.
    count: Mutex<RecordCount>,
    key: [u8; 32],
    /// Last, so it drops after the database: waits until sled has let go of the directory.
    release: Release,
}

fn role_letter(role: Role) -> char {
    match role {
        Role::Facilitator => 'f',
        Role::Participant => 'p',
        Role::Observer => 'o',
    }
}

fn role_of_letter(letter: &str) -> Option<Role> {
    match letter {
        "f" => Some(Role::Facilitator),
        "p" => Some(Role::Participant),
        "o" => Some(Role::Observer),
        _ => None,
    }
}

fn random_bytes<const N: usize>() -> io::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|error| io::Error::other(format!("no randomness: {error}")))?;
    Ok(bytes)
}

impl AccessStore {
    /// Opens (and creates) the access records in `dir`.
    pub fn open(dir: &Path) -> Result<Self, AccessError> {
        crate::durable::ensure_dir(dir)?;
        let key = load_or_create_key(&dir.join("server.key"))?;
        let records = dir.join("records");
        // On an early return `opened` drops whole: sled first, then the wait for its lock.
        let opened = OpenedSled::open(&sled::Config::new().path(&records), &records).map_err(|error| match error {
            sled::Error::Corruption { .. } => AccessError::Unreadable {
                path: records.display().to_string(),
                problem: format!("is damaged ({error})"),
            },
            other => AccessError::Sled(other),
        })?;
        // sled creates `conf`, `db` and `blobs/` without syncing them or their directory: make
        // them durable before the first token relies on them.
        crate::durable::sync_file_and_entry(&records.join("db"))?;
        crate::durable::sync_file_and_entry(&records.join("conf"))?;
        crate::durable::sync_directory(&records.join("blobs"))?;
        crate::durable::sync_directory(&records)?;
        crate::durable::sync_directory(dir)?;
        // Trees declared after `opened` drop before it.
        let tokens = opened.db.open_tree("tokens")?;
        let code_macs = opened.db.open_tree("code_macs")?;
        let code_attempts = opened.db.open_tree("code_attempts")?;
        let db_file = File::open(records.join("db"))?;
        let count = Self::check_count(&dir.join("records.count"), &records, &tokens, &code_attempts)?;
        let store = Self {
            tokens,
            code_macs,
            code_attempts,
            db: opened.db,
            db_file,
            records,
            count: Mutex::new(count),
            key,
            release: opened.release,
        };
        store.migrate_clear_codes()?;
        Ok(store)
    }

    /// Compares the records with the count of the last sync: fewer records than counted is
    /// damage. Returns the count file, brought up to what the records hold.
    fn check_count(
        path: &Path,
        records: &Path,
        tokens: &sled::Tree,
        code_attempts: &sled::Tree,
    ) -> Result<RecordCount, AccessError> {
        let held = (tokens.len() + code_attempts.len()) as u64;
        match count::read(path)? {
            Err(problem) => Err(AccessError::Unreadable { path: path.display().to_string(), problem }),
            Ok(Some(counted)) if held < counted => Err(AccessError::Unreadable {
                path: records.display().to_string(),
                problem: format!(
                    "has lost {} of the {counted} tokens and join codes it held (a damaged stretch of its log)",
                    counted - held
                ),
            }),
            Ok(_) => Ok(RecordCount::create(path, held)?),
        }
    }

    fn count(&self) -> MutexGuard<'_, RecordCount> {
        // The file, not this value, is the truth: a panic elsewhere leaves nothing to undo here.
        self.count.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Becomes `true` once the records are closed and their directory can be opened again.
    pub fn closed(&self) -> tokio::sync::watch::Receiver<bool> {
        self.release.closed()
    }

    /// Data directories written before join codes were kept as HMACs held them in the clear
    /// (trees `codes` and `board_codes`): keep each board's code as it was, and drop those trees.
    fn migrate_clear_codes(&self) -> Result<(), AccessError> {
        const OLD_CODES: &str = "codes";
        const OLD_BOARD_CODES: &str = "board_codes";
        let names = self.db.tree_names();
        if !names.iter().any(|name| name == OLD_BOARD_CODES.as_bytes() || name == OLD_CODES.as_bytes()) {
            return Ok(());
        }
        let old = self.db.open_tree(OLD_BOARD_CODES)?;
        for entry in &old {
            let (board, code) = entry?;
            let board = uuid::Uuid::from_slice(&board).map_err(|error| AccessError::Damaged(error.to_string()))?;
            let board = BoardId(board);
            // The code was derived from the key; find which derivation it was.
            let attempt = (0u32..10_000)
                .find(|attempt| self.derive_code(board, *attempt).as_bytes() == code.as_ref())
                .ok_or_else(|| {
                    AccessError::Damaged(format!("the join code of board {board} was not made with this server key"))
                })?;
            self.code_macs.insert(self.code_mac(&self.derive_code(board, attempt)), board.as_bytes())?;
            self.code_attempts.insert(board.as_bytes(), &attempt.to_be_bytes())?;
        }
        self.sync()?;
        self.db.drop_tree(OLD_BOARD_CODES)?;
        self.db.drop_tree(OLD_CODES)?;
        self.sync()?;
        self.count().set((self.tokens.len() + self.code_attempts.len()) as u64)?;
        tracing::info!("join codes are now kept as HMACs; the old clear records were dropped");
        Ok(())
    }

    /// Refuses a write while the disk is too full to write safely (see [`crate::disk_space`]):
    /// a write that failed inside sled would stop the records for good, until a restart.
    fn room(&self) -> Result<(), AccessError> {
        Ok(crate::disk_space::check(&self.records, 0)?)
    }

    /// Why writes are refused for now, if they are: the disk is too full. Looked at anew.
    pub fn disk_full(&self) -> Option<String> {
        self.room().err().map(|full| full.to_string())
    }

    /// Makes every write so far durable: sled's flush, then a real fdatasync of its file.
    fn sync(&self) -> Result<(), AccessError> {
        self.db.flush()?;
        self.db_file.sync_data()?;
        Ok(())
    }

    fn hash(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }

    /// Issues a new token for a participant; only its hash is kept, durably.
    pub fn issue_token(&self, board: BoardId, participant: ParticipantId) -> Result<String, AccessError> {
        let token = format!("{TOKEN_PREFIX}{}", BASE64URL.encode(random_bytes::<32>()?));
        let mut record = [0u8; 32];
        record[..16].copy_from_slice(board.as_bytes());
        record[16..].copy_from_slice(participant.as_bytes());
        self.room()?;
        let mut count = self.count();
        let fresh = self.tokens.insert(Self::hash(&token), &record)?.is_none();
        self.sync()?;
        if fresh {
            let next = count.count() + 1;
            count.set(next)?;
        }
        Ok(token)
    }

    /// Withdraws a token (a join that the board refused, say).
    pub fn revoke_token(&self, token: &str) -> Result<(), AccessError> {
        let mut count = self.count();
        if self.tokens.get(Self::hash(token))?.is_none() {
            return Ok(());
        }
        // A removal is written to sled's log too.
        self.room()?;
        // The count goes down first, so it never says more than the records hold.
        let next = count.count().saturating_sub(1);
        count.set(next)?;
        self.tokens.remove(Self::hash(token))?;
        self.sync()
    }

    /// The board and participant a token belongs to.
    pub fn resolve_token(&self, token: &str) -> Result<Option<(BoardId, ParticipantId)>, AccessError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let Some(record) = self.tokens.get(Self::hash(token))? else { return Ok(None) };
        let record: [u8; 32] =
            record.as_ref().try_into().map_err(|_| AccessError::Damaged("a token record is not 32 bytes".into()))?;
        let board = uuid::Uuid::from_slice(&record[..16]).map_err(|error| AccessError::Damaged(error.to_string()))?;
        let participant =
            uuid::Uuid::from_slice(&record[16..]).map_err(|error| AccessError::Damaged(error.to_string()))?;
        Ok(Some((BoardId(board), ParticipantId(participant))))
    }

    fn mac(&self, purpose: &[u8], board: BoardId, extra: &[u8]) -> HmacSha256 {
        // unwrap-free: HMAC takes keys of any length.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        mac.update(purpose);
        mac.update(board.as_bytes());
        mac.update(extra);
        mac
    }

    fn link_secret(&self, board: BoardId, role: Role) -> String {
        let digest = self.mac(b"kipina-link\0", board, &[role_letter(role) as u8]).finalize().into_bytes();
        BASE64URL.encode(&digest[..16])
    }

    /// The path of a board's invitation link for `role`: `/join/{board}/{f|p|o}/{secret}`.
    pub fn link_path(&self, board: BoardId, role: Role) -> String {
        format!("/join/{board}/{}/{}", role_letter(role), self.link_secret(board, role))
    }

    /// The code of `board` made by derivation number `attempt` (the next one is tried when a code
    /// is taken by another board).
    fn derive_code(&self, board: BoardId, attempt: u32) -> String {
        let digest = self.mac(b"kipina-code\0", board, &attempt.to_be_bytes()).finalize().into_bytes();
        digest[..CODE_LEN].iter().map(|byte| CODE_ALPHABET[usize::from(byte % 31)] as char).collect()
    }

    /// What a join code is stored as: its HMAC under the server key, so the records alone do not
    /// give the code away (a plain hash of 887 million codes would be undone in seconds).
    fn code_mac(&self, code: &str) -> [u8; 32] {
        // unwrap-free: HMAC takes keys of any length.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        mac.update(b"kipina-code-lookup\0");
        mac.update(code.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Gives a new board its join code.
    pub fn register_board(&self, board: BoardId) -> Result<String, AccessError> {
        if let Some(code) = self.join_code(board)? {
            return Ok(code);
        }
        self.room()?;
        for attempt in 0u32.. {
            let code = self.derive_code(board, attempt);
            // Another board may have the same code already: try the next derivation.
            let mac = self.code_mac(&code);
            if self.code_macs.compare_and_swap(mac, None as Option<&[u8]>, Some(board.as_bytes()))?.is_ok() {
                let mut count = self.count();
                let fresh = self.code_attempts.insert(board.as_bytes(), &attempt.to_be_bytes())?.is_none();
                self.sync()?;
                if fresh {
                    let next = count.count() + 1;
                    count.set(next)?;
                }
                return Ok(code);
            }
        }
        Err(AccessError::Damaged("no free join code".into()))
    }

    /// The board's join code, if it has one.
    pub fn join_code(&self, board: BoardId) -> Result<Option<String>, AccessError> {
        let Some(attempt) = self.code_attempts.get(board.as_bytes())? else { return Ok(None) };
        let attempt: [u8; 4] = attempt
            .as_ref()
            .try_into()
            .map_err(|_| AccessError::Damaged("a join code record is not 4 bytes".into()))?;
        Ok(Some(self.derive_code(board, u32::from_be_bytes(attempt))))
    }

    /// `text` as a join code (without spaces or hyphens, upper case), if it has the shape of one.
    pub fn as_code(text: &str) -> Option<String> {
        // As typed from the projector: "8Z8 25A", "8z8-25a".
        let code = super::typed_join_code(text);
        (code.len() == CODE_LEN && code.bytes().all(|byte| CODE_ALPHABET.contains(&byte))).then_some(code)
    }

    /// The board a join code (as [`AccessStore::as_code`] gives it) leads to, if any.
    pub fn code_board(&self, code: &str) -> Result<Option<BoardId>, AccessError> {
        let Some(board) = self.code_macs.get(self.code_mac(code))? else { return Ok(None) };
        let board = uuid::Uuid::from_slice(&board).map_err(|error| AccessError::Damaged(error.to_string()))?;
        Ok(Some(BoardId(board)))
    }

    /// Reads an invitation: a link (whole path or its `{board}/{r}/{secret}` part) or a join code.
    pub fn invitation(&self, text: &str) -> Result<Option<Invitation>, AccessError> {
        let text = text.trim();
        if let Some(invitation) = self.link(text) {
            return Ok(Some(invitation));
        }
        let Some(code) = Self::as_code(text) else { return Ok(None) };
        Ok(self.code_board(&code)?.map(|board| Invitation { board, role: Role::Participant }))
    }

    /// Reads `[…/join/]{board}/{r}/{secret}` and checks the secret in constant time.
    pub fn link(&self, text: &str) -> Option<Invitation> {
        let path = text.rsplit_once("/join/").map_or(text, |(_, path)| path).trim_matches('/');
        let mut parts = path.split('/');
        let (board, letter, secret) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let board: BoardId = board.parse().ok()?;
        let role = role_of_letter(letter)?;
        let secret = BASE64URL.decode(secret).ok()?;
        let mac = self.mac(b"kipina-link\0", board, &[role_letter(role) as u8]);
        mac.verify_truncated_left(&secret).ok()?;
        (secret.len() == 16).then_some(Invitation { board, role })
    }
}

/// The length of the server key file: the key, then the CRC-32 of the key (big-endian).
const KEY_FILE_LEN: usize = 32 + 4;

/// The server key: 256 random bits made once, durably, and kept private to the owner. The file
/// carries a checksum, so a damaged key is reported instead of silently failing every link and
/// token (a key file from before the checksum is given one).
fn load_or_create_key(path: &Path) -> Result<[u8; 32], AccessError> {
    let unreadable =
        |problem: &str| AccessError::Unreadable { path: path.display().to_string(), problem: problem.into() };
    match fs::read(path) {
        Ok(bytes) if bytes.len() == KEY_FILE_LEN => {
            let (key, sum) = bytes.split_at(32);
            if crc32fast::hash(key).to_be_bytes() != sum {
                return Err(unreadable("is damaged (its checksum does not match)"));
            }
            Ok(key.try_into().map_err(|_| unreadable("is not a key"))?)
        }
        Ok(bytes) if bytes.len() == 32 => {
            let key: [u8; 32] = bytes.try_into().map_err(|_| unreadable("is not a key"))?;
            crate::durable::replace_file(path, &key_file(&key))?;
            tracing::info!(path = %path.display(), "the server key now carries a checksum");
            Ok(key)
        }
        Ok(bytes) => Err(unreadable(&format!("is damaged ({} bytes, a key file has {KEY_FILE_LEN})", bytes.len()))),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let key = random_bytes::<32>()?;
            crate::durable::replace_file(path, &key_file(&key))?;
            Ok(key)
        }
        Err(error) => Err(unreadable(&format!("cannot be read ({error})"))),
    }
}

fn key_file(key: &[u8; 32]) -> Vec<u8> {
    let mut bytes = key.to_vec();
    bytes.extend_from_slice(&crc32fast::hash(key).to_be_bytes());
    bytes
}

/// Checks a data directory's access records without changing them, for `kipina verify`: the
/// server key's checksum, that sled can read every record and each token record has its shape,
/// and that no record counted at a sync is missing. Each problem names its file and the remedy.
pub fn check(dir: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    if !dir.exists() {
        return problems;
    }
    if let Err(problem) = check_key_file(&dir.join("server.key")) {
        problems.push(problem.to_string());
    }
    let records = dir.join("records");
    if !records.exists() {
        return problems;
    }
    let damaged =
        |problem: String| AccessError::Unreadable { path: records.display().to_string(), problem }.to_string();
    let opened = match OpenedSled::open(&sled::Config::new().path(&records), &records) {
        Ok(opened) => opened,
        Err(sled::Error::Io(error)) if error.kind() == io::ErrorKind::WouldBlock => {
            problems.push(format!(
                "{} is in use by another program (a running kipina serve?): stop it to check the access records",
                records.display()
            ));
            return problems;
        }
        Err(error) => {
            problems.push(damaged(format!("cannot be read ({error})")));
            return problems;
        }
    };
    let mut held = 0u64;
    // Each tree and the size of its values: a token's board and participant, a code's attempt.
    for (tree, size) in [("tokens", 32), ("code_attempts", 4)] {
        let tree = match opened.db.open_tree(tree) {
            Ok(tree) => tree,
            Err(error) => {
                problems.push(damaged(format!("cannot be read ({error})")));
                return problems;
            }
        };
        for entry in &tree {
            match entry {
                Ok((_, value)) if value.len() == size => held += 1,
                Ok((key, value)) => problems
                    .push(damaged(format!("holds a record of the wrong size ({} bytes at {key:02x?})", value.len()))),
                Err(error) => {
                    problems.push(damaged(format!("cannot be read ({error})")));
                    break;
                }
            }
        }
    }
    let count_path = dir.join("records.count");
    match count::read(&count_path) {
        Ok(Ok(Some(counted))) if held < counted => problems.push(damaged(format!(
            "has lost {} of the {counted} tokens and join codes it held (a damaged stretch of its log)",
            counted - held
        ))),
        Ok(Ok(_)) => {}
        Ok(Err(problem)) => {
            problems.push(AccessError::Unreadable { path: count_path.display().to_string(), problem }.to_string())
        }
        Err(error) => problems.push(
            AccessError::Unreadable {
                path: count_path.display().to_string(),
                problem: format!("cannot be read ({error})"),
            }
            .to_string(),
        ),
    }
    problems
}

/// Checks the server key file without creating or changing it (for `kipina verify`).
pub fn check_key_file(path: &Path) -> Result<(), AccessError> {
    let unreadable =
        |problem: &str| AccessError::Unreadable { path: path.display().to_string(), problem: problem.into() };
    let bytes = fs::read(path).map_err(|error| unreadable(&format!("cannot be read ({error})")))?;
    match bytes.len() {
        KEY_FILE_LEN if crc32fast::hash(&bytes[..32]).to_be_bytes() == bytes[32..] => Ok(()),
        KEY_FILE_LEN => Err(unreadable("is damaged (its checksum does not match)")),
        // Written before the checksum: it cannot be checked, and is given one at the next start.
        32 => Ok(()),
        other => Err(unreadable(&format!("is damaged ({other} bytes, a key file has {KEY_FILE_LEN})"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn store() -> (tempfile::TempDir, AccessStore) {
        let dir = tempfile::tempdir().unwrap(); // unwrap: a temp dir is needed
        let store = AccessStore::open(dir.path()).unwrap(); // unwrap: fresh directory
        (dir, store)
    }

    const BOARD: BoardId = BoardId(Uuid::from_u128(7));

    #[test]
    fn tokens_resolve_and_only_their_hash_is_stored() {
        let (dir, store) = store();
        let token = store.issue_token(BOARD, ParticipantId(Uuid::from_u128(8))).unwrap(); // unwrap: test
        assert!(token.len() >= 3 + 43, "{token}");
        assert_eq!(store.resolve_token(&token).unwrap(), Some((BOARD, ParticipantId(Uuid::from_u128(8))))); // unwrap: test
        assert_eq!(store.resolve_token("kp_guess").unwrap(), None); // unwrap: test
        drop(store);
        for entry in walk(dir.path()) {
            let bytes = fs::read(&entry).unwrap(); // unwrap: test
            assert!(!bytes.windows(token.len()).any(|window| window == token.as_bytes()), "{entry:?} holds the token");
        }
    }

    fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        for entry in fs::read_dir(dir).unwrap() {
            // unwrap: test directory
            let path = entry.unwrap().path(); // unwrap: as above
            if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
        }
        files
    }

    #[test]
    fn links_carry_their_role_and_a_changed_secret_or_role_is_refused() {
        let (_dir, store) = store();
        let link = store.link_path(BOARD, Role::Participant);
        assert_eq!(store.link(&link), Some(Invitation { board: BOARD, role: Role::Participant }));
        assert_eq!(
            store.link(&format!("http://localhost:8080{link}")).map(|invitation| invitation.role),
            Some(Role::Participant)
        );
        let as_facilitator = link.replace("/p/", "/f/");
        assert_eq!(store.link(&as_facilitator), None, "changing the role letter must not work");
        let mut forged = link.clone();
        forged.pop();
        forged.push(if link.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(store.link(&forged), None);
    }

    #[test]
    fn join_codes_are_short_typable_and_lead_to_the_board_as_participant() {
        let (dir, store) = store();
        let code = store.register_board(BOARD).unwrap(); // unwrap: test
        assert_eq!(code.len(), CODE_LEN);
        assert_eq!(store.register_board(BOARD).unwrap(), code, "registering twice keeps the code"); // unwrap: test
        let invitation = store.invitation(&code.to_lowercase()).unwrap(); // unwrap: test
        assert_eq!(invitation, Some(Invitation { board: BOARD, role: Role::Participant }));
        assert_eq!(store.invitation("ZZZZZZ").unwrap(), None); // unwrap: test
        drop(store);
        let reopened = AccessStore::open(dir.path()).unwrap(); // unwrap: test
        assert_eq!(reopened.join_code(BOARD).unwrap(), Some(code.clone()), "the code is derived again"); // unwrap: test
        drop(reopened);
        for entry in walk(dir.path()) {
            let bytes = fs::read(&entry).unwrap(); // unwrap: test
            assert!(!bytes.windows(CODE_LEN).any(|window| window == code.as_bytes()), "{entry:?} holds the code");
        }
    }

    #[test]
    fn codes_kept_in_the_clear_by_an_older_version_are_moved_to_hmacs() {
        let (dir, store) = store();
        let code = store.derive_code(BOARD, 0);
        // What an older version wrote.
        let old_codes = store.db.open_tree("codes").unwrap(); // unwrap: test
        let old_board_codes = store.db.open_tree("board_codes").unwrap(); // unwrap: test
        old_codes.insert(code.as_bytes(), BOARD.as_bytes()).unwrap(); // unwrap: test
        old_board_codes.insert(BOARD.as_bytes(), code.as_bytes()).unwrap(); // unwrap: test
        store.sync().unwrap(); // unwrap: test
        drop((old_codes, old_board_codes, store));
        let store = AccessStore::open(dir.path()).unwrap(); // unwrap: test
        assert_eq!(store.join_code(BOARD).unwrap(), Some(code.clone())); // unwrap: test
        assert_eq!(store.code_board(&code).unwrap(), Some(BOARD)); // unwrap: test
        assert!(
            !store.db.tree_names().iter().any(|name| name == "board_codes".as_bytes() || name == "codes".as_bytes())
        );
    }

    fn reopen(dir: &tempfile::TempDir) -> Result<AccessStore, AccessError> {
        AccessStore::open(dir.path())
    }

    #[test]
    fn a_damaged_server_key_is_refused_naming_the_file_and_the_remedy() {
        let (dir, store) = store();
        drop(store);
        let path = dir.path().join("server.key");
        let mut bytes = fs::read(&path).unwrap(); // unwrap: test
        assert_eq!(bytes.len(), KEY_FILE_LEN);
        bytes[5] ^= 0x01;
        fs::write(&path, &bytes).unwrap(); // unwrap: test
        let error = reopen(&dir).expect_err("a damaged key is refused").to_string();
        assert!(error.contains("server.key is damaged (its checksum does not match)"), "{error}");
        assert!(error.contains("restore the access directory from a backup"), "{error}");
        assert_eq!(check(dir.path()).len(), 1, "{:?}", check(dir.path()));
        // Cut short, too.
        fs::write(&path, &bytes[..20]).unwrap(); // unwrap: test
        let error = reopen(&dir).expect_err("a short key is refused").to_string();
        assert!(error.contains("server.key is damaged (20 bytes"), "{error}");
    }

    #[test]
    fn a_server_key_without_a_checksum_is_given_one_and_every_link_stays() {
        let (dir, store) = store();
        let link = store.link_path(BOARD, Role::Participant);
        drop(store);
        let path = dir.path().join("server.key");
        let bytes = fs::read(&path).unwrap(); // unwrap: test
        fs::write(&path, &bytes[..32]).unwrap(); // unwrap: test: what an older version wrote
        assert!(check(dir.path()).is_empty());
        let store = reopen(&dir).unwrap(); // unwrap: test
        assert_eq!(store.link_path(BOARD, Role::Participant), link);
        assert_eq!(fs::read(&path).unwrap(), bytes); // unwrap: test
    }

    #[test]
    fn records_that_sled_dropped_are_noticed_at_open_and_by_check() {
        let (dir, store) = store();
        let tokens: Vec<String> = (0..3)
            .map(|n| store.issue_token(BOARD, ParticipantId(Uuid::from_u128(n))).unwrap()) // unwrap: test
            .collect();
        store.register_board(BOARD).unwrap(); // unwrap: test
        // A revoked token is not a loss.
        store.revoke_token(&tokens[0]).unwrap(); // unwrap: test
        drop(store);
        assert!(check(dir.path()).is_empty(), "{:?}", check(dir.path()));
        let store = reopen(&dir).unwrap(); // unwrap: test
        // What sled does with a damaged stretch of its log: opens without the records in it.
        store.tokens.remove(AccessStore::hash(&tokens[1])).unwrap(); // unwrap: test
        store.sync().unwrap(); // unwrap: test
        drop(store);
        let error = reopen(&dir).expect_err("the loss is noticed").to_string();
        assert!(error.contains("records has lost 1 of the 3 tokens and join codes it held"), "{error}");
        let problems = check(dir.path());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("has lost 1 of the 3"), "{problems:?}");
    }
}
