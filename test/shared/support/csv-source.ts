// Feeding CSV text to the streaming reader the way files and S3 bodies arrive: as chunks of
// bytes (or strings) whose boundaries fall anywhere, even inside a character or a CRLF.

const encoder = new TextEncoder();

/** The text as UTF-8 byte chunks of the given sizes (cycled), e.g. [1, 7, 3]. */
export async function* byteChunks(text: string, sizes: readonly number[] = [3]): AsyncGenerator<Uint8Array> {
  const bytes = encoder.encode(text);
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length]!);
    yield bytes.slice(offset, offset + size);
    offset += size;
  }
}

/** The text as one string chunk. */
export async function* oneString(text: string): AsyncGenerator<string> {
  yield text;
}

/** The text as string chunks of `size` characters. */
export async function* stringChunks(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}
