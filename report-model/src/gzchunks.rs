//! A gzip stream written as independent members of `CHUNK` input bytes, compressed on every core.
//!
//! RFC 1952 lets a gzip file hold any number of members, and every gunzip (`tar xzf`,
//! flate2's `MultiGzDecoder`, browsers' `DecompressionStream`) reads them as one stream.
//! Cutting the input at fixed offsets makes the bytes depend on the input alone, never on
//! the number of threads or their timing, so archives stay deterministic. Deflate's window
//! is 32 KiB, so members of 1 MiB cost about 0.1% in size.

use std::collections::VecDeque;
use std::io::{self, Write};

use flate2::{write::GzEncoder, Compression, GzBuilder};

/// Input bytes per gzip member.
pub const CHUNK: usize = 1 << 20;

/// Members compressed ahead of the stream (a capture compresses its kernel events while
/// the workload runs), by chunk index: chunk `i` is input bytes `[i * CHUNK, (i + 1) * CHUNK)`.
pub trait ReadyMembers {
    /// The member of chunk `index`, if one was made.
    fn take(&mut self, index: u64) -> Option<Vec<u8>>;
}

/// Whether `member`'s trailer (CRC-32 and length of its input) is that of `chunk`: a
/// member made ahead is used only for the very bytes it stands for.
fn stands_for(member: &[u8], chunk: &[u8]) -> bool {
    let Some(t) = member.len().checked_sub(8).and_then(|at| member.get(at..)) else {
        return false;
    };
    let mut crc = flate2::Crc::new();
    crc.update(chunk);
    t[..4] == crc.sum().to_le_bytes() && t[4..] == (chunk.len() as u32).to_le_bytes()
}

/// The deflate level of every member. On kernel.ndjson v2 level 2 deflates about 4x as fast
/// as level 6 (zlib-rs, 880 against 220 MB/s) for 19% more bytes (2.74 against 2.31 bytes an
/// event); level 1 is no faster and 40% larger (README, "Archive size and speed").
const LEVEL: u32 = 2;

/// One member: a gzip header with no name and mtime 0, the deflated chunk, its trailer.
pub fn member(chunk: &[u8]) -> io::Result<Vec<u8>> {
    let mut gz: GzEncoder<Vec<u8>> = GzBuilder::new()
        .mtime(0)
        .write(Vec::with_capacity(chunk.len() / 8), Compression::new(LEVEL));
    gz.write_all(chunk)?;
    gz.finish()
}

/// A member being compressed, or already compressed where there are no threads.
enum Pending {
    #[cfg(not(target_arch = "wasm32"))]
    Thread(std::thread::JoinHandle<io::Result<Vec<u8>>>),
    Done(io::Result<Vec<u8>>),
}

impl Pending {
    fn start(chunk: Vec<u8>, threads: usize) -> Pending {
        #[cfg(not(target_arch = "wasm32"))]
        if threads > 1 {
            return Pending::Thread(std::thread::spawn(move || member(&chunk)));
        }
        let _ = threads;
        Pending::Done(member(&chunk))
    }

    fn wait(self) -> io::Result<Vec<u8>> {
        match self {
            #[cfg(not(target_arch = "wasm32"))]
            Pending::Thread(h) => h
                .join()
                .map_err(|_| io::Error::other("a compressing thread panicked"))?,
            Pending::Done(r) => r,
        }
    }
}

/// Writes its input to `out` as gzip members of [`CHUNK`] bytes, up to `threads` of them
/// compressed at once, in input order. Call [`ChunkedGz::finish`] to write the last one.
pub struct ChunkedGz<W: Write> {
    out: W,
    buf: Vec<u8>,
    pending: VecDeque<Pending>,
    threads: usize,
    /// The index of the chunk being filled (0: none sealed yet; an empty input still gives
    /// one, empty, member).
    index: u64,
    ready: Option<Box<dyn ReadyMembers>>,
}

impl<W: Write> ChunkedGz<W> {
    /// A writer using every core (one on wasm).
    pub fn new(out: W) -> Self {
        #[cfg(not(target_arch = "wasm32"))]
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        #[cfg(target_arch = "wasm32")]
        let threads = 1;
        Self::with_threads(out, threads)
    }

    /// A writer compressing up to `threads` members at once (1: on this thread).
    pub fn with_threads(out: W, threads: usize) -> Self {
        ChunkedGz {
            out,
            buf: Vec::with_capacity(CHUNK),
            pending: VecDeque::new(),
            threads: threads.max(1),
            index: 0,
            ready: None,
        }
    }

    /// Members made ahead: each is written in place of compressing its chunk, when its
    /// trailer matches the chunk (else the chunk is compressed as usual).
    pub fn set_ready(&mut self, ready: Box<dyn ReadyMembers>) {
        self.ready = Some(ready);
    }

    /// Seals the chunk being filled. The `last` one is compressed on this thread, which
    /// would only wait for it otherwise (a small capture's only member then costs no
    /// thread).
    fn seal(&mut self, last: bool) -> io::Result<()> {
        let index = self.index;
        self.index += 1;
        let ahead = self.ready.as_mut().and_then(|r| r.take(index));
        if let Some(m) = ahead.filter(|m| stands_for(m, &self.buf)) {
            self.buf.clear();
            self.pending.push_back(Pending::Done(Ok(m)));
        } else if last {
            let m = member(&self.buf);
            self.buf = Vec::new();
            self.pending.push_back(Pending::Done(m));
        } else {
            let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
            self.pending.push_back(Pending::start(chunk, self.threads));
        }
        while self.pending.len() >= self.threads {
            self.write_oldest()?;
        }
        Ok(())
    }

    fn write_oldest(&mut self) -> io::Result<()> {
        if let Some(p) = self.pending.pop_front() {
            let bytes = p.wait()?;
            self.out.write_all(&bytes)?;
        }
        Ok(())
    }

    /// Compresses what is left, writes every member and hands `out` back.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.buf.is_empty() || self.index == 0 {
            self.seal(true)?;
        }
        while !self.pending.is_empty() {
            self.write_oldest()?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for ChunkedGz<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.seal(false)?;
        }
        Ok(n)
    }

    /// Members are cut by size only, so a flush writes nothing early.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn data(n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| format!("{{\"seq\":{i},\"kind\":\"write\"}}\n"))
            .collect::<String>()
            .into_bytes()
            .into_iter()
            .take(n)
            .collect()
    }

    fn gz(input: &[u8], threads: usize) -> Vec<u8> {
        let mut w = ChunkedGz::with_threads(Vec::new(), threads);
        // Odd-sized writes, so chunks are cut inside them.
        for piece in input.chunks(77_777) {
            w.write_all(piece).unwrap();
        }
        w.finish().unwrap()
    }

    #[test]
    fn members_decode_as_one_stream_and_do_not_depend_on_threads() {
        for n in [0, 10, CHUNK, CHUNK + 1, 3 * CHUNK + 12_345] {
            let input = data(n);
            let one = gz(&input, 1);
            assert_eq!(one, gz(&input, 2), "{n} bytes");
            assert_eq!(one, gz(&input, 5), "{n} bytes");
            let mut back = Vec::new();
            flate2::read::MultiGzDecoder::new(one.as_slice())
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, input, "{n} bytes");
            // One member per started chunk (and one for an empty input).
            let members = one.windows(4).filter(|w| *w == [0x1f, 0x8b, 8, 0]).count();
            assert!(members >= n.div_ceil(CHUNK).max(1), "{n}: {members}");
        }
    }

    /// Members made ahead for some chunks, one of them for other bytes.
    struct Ahead(Vec<(u64, Vec<u8>)>);

    impl ReadyMembers for Ahead {
        fn take(&mut self, index: u64) -> Option<Vec<u8>> {
            let at = self.0.iter().position(|(i, _)| *i == index)?;
            Some(self.0.remove(at).1)
        }
    }

    #[test]
    fn members_made_ahead_are_used_only_for_their_own_bytes() {
        let input = data(4 * CHUNK + 99);
        let chunk = |i: usize| &input[i * CHUNK..(i + 1) * CHUNK];
        let plain = gz(&input, 2);
        // Chunks 1 and 3 ahead; "chunk 2" is made from other bytes and must be ignored.
        let wrong = member(&data(CHUNK + 5)[5..]).unwrap();
        let ahead = Ahead(vec![
            (1, member(chunk(1)).unwrap()),
            (2, wrong),
            (3, member(chunk(3)).unwrap()),
        ]);
        let mut w = ChunkedGz::with_threads(Vec::new(), 2);
        w.set_ready(Box::new(ahead));
        w.write_all(&input).unwrap();
        assert_eq!(w.finish().unwrap(), plain, "the same bytes either way");
        assert!(!stands_for(b"short", b""));
    }

    #[test]
    fn a_plain_gzip_reader_sees_only_the_first_member() {
        // Why readers must use MultiGzDecoder: GzDecoder stops after one member.
        let input = data(2 * CHUNK);
        let mut first = Vec::new();
        flate2::read::GzDecoder::new(gz(&input, 2).as_slice())
            .read_to_end(&mut first)
            .unwrap();
        assert_eq!(first, input[..CHUNK]);
    }
}
