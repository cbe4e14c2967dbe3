//! `DATA/access/records.count`: how many records (tokens and boards' join codes) the access
//! records held at their last sync.
//!
//! sled reads a damaged stretch of its log as the torn end of it and opens without whatever
//! followed, so a flipped byte could silently take the tokens handed out since the last start:
//! they would answer 401 while everything looked fine. The count, written after each sync of
//! the records (and lowered before a record is removed), is never more than what the records
//! hold, so finding fewer records than it says is damage, reported with the file and a remedy.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// 8 bytes of count, then the CRC-32 of those 8 bytes (both big-endian): one disk sector, so a
/// torn write is caught by the checksum.
const LEN: usize = 12;

#[derive(Debug)]
pub(super) struct RecordCount {
    file: File,
    count: u64,
}

/// What the file says: `None` for a file that is new or was never written.
pub(super) fn read(path: &Path) -> io::Result<Result<Option<u64>, String>> {
    let mut bytes = Vec::with_capacity(LEN);
    match File::open(path) {
        Ok(mut file) => file.read_to_end(&mut bytes)?,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Ok(None)),
        Err(error) => return Err(error),
    };
    Ok(decode(&bytes))
}

fn decode(bytes: &[u8]) -> Result<Option<u64>, String> {
    match bytes.len() {
        0 => Ok(None),
        LEN => {
            let (count, sum) = bytes.split_at(8);
            if crc32fast::hash(count).to_be_bytes() != sum {
                return Err("is damaged (its checksum does not match)".into());
            }
            Ok(Some(u64::from_be_bytes(count.try_into().map_err(|_| "is not a count".to_owned())?)))
        }
        other => Err(format!("is damaged ({other} bytes, the count has {LEN})")),
    }
}

fn encode(count: u64) -> [u8; LEN] {
    let mut bytes = [0u8; LEN];
    bytes[..8].copy_from_slice(&count.to_be_bytes());
    bytes[8..].copy_from_slice(&crc32fast::hash(&count.to_be_bytes()).to_be_bytes());
    bytes
}

impl RecordCount {
    /// Opens the file (made durably when missing) and records `count` in it.
    pub(super) fn create(path: &Path, count: u64) -> io::Result<Self> {
        if !path.exists() {
            crate::durable::replace_file(path, &encode(count))?;
        }
        let file = File::options().read(true).write(true).open(path)?;
        let mut opened = Self { file, count: u64::MAX };
        opened.set(count)?;
        Ok(opened)
    }

    pub(super) fn count(&self) -> u64 {
        self.count
    }

    /// Records `count` durably (in place, then fdatasync).
    pub(super) fn set(&mut self, count: u64) -> io::Result<()> {
        if count == self.count {
            return Ok(());
        }
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(&encode(count))?;
        self.file.sync_data()?;
        self.count = count;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_reads_back_and_a_flipped_bit_is_damage() {
        assert_eq!(decode(&encode(1234)), Ok(Some(1234)));
        assert_eq!(decode(&[]), Ok(None));
        let mut bytes = encode(1234);
        bytes[3] ^= 0x10;
        assert!(decode(&bytes).is_err());
        assert!(decode(&bytes[..7]).is_err());
    }

    #[test]
    fn set_writes_in_place_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.count");
        let mut count = RecordCount::create(&path, 3).unwrap();
        count.set(7).unwrap();
        assert_eq!(read(&path).unwrap(), Ok(Some(7)));
        assert_eq!(count.count(), 7);
    }
}
