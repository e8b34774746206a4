/**
 * Provenance test files made from the real C2PA fixtures in ../shared/data/c2pa (see its MANIFEST):
 * a signature broken after signing, and XMP declarations (an IPTC digital source type, a remote
 * manifest reference) written into a real photo without credentials.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { dataPath } from './helpers.ts';

/** A file of the shared C2PA fixtures. */
export function c2paFixture(name: string): Buffer {
  return readFileSync(dataPath('c2pa', name));
}

/**
 * The file with one byte of its claim signature flipped: the COSE signature is the tail of the
 * `cbor` box that follows the `c2pa.signature` label, so the manifest still parses but no longer verifies.
 */
export function withBrokenSignature(file: Buffer): Buffer {
  const label = file.indexOf('c2pa.signature');
  const box = file.indexOf('cbor', label);
  if (label < 0 || box < 4) throw new Error('no claim signature box in this file');
  const end = box - 4 + file.readUInt32BE(box - 4);
  const broken = Buffer.from(file);
  broken[end - 20]! ^= 0xff;
  return broken;
}

function xmpPacket(description: string): string {
  return `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" ${description}/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`;
}

/** A JPEG re-encoded from `input` whose XMP declares an IPTC digital source type (`trainedAlgorithmicMedia`). */
export function withDigitalSourceType(input: Buffer, code: string): Promise<Buffer> {
  const xmp = xmpPacket(`xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/${code}"`);
  return sharp(input).withXmp(xmp).jpeg().toBuffer();
}

/** A JPEG re-encoded from `input` whose XMP points at a remote C2PA manifest (dcterms:provenance). */
export function withRemoteManifest(input: Buffer, url: string): Promise<Buffer> {
  return sharp(input).withXmp(xmpPacket(`xmlns:dcterms="http://purl.org/dc/terms/" dcterms:provenance="${url}"`)).jpeg().toBuffer();
}

/** The XMP box's UUID in ISO BMFF files (MP4/MOV), as Adobe's XMP specification part 3 defines it. */
const XMP_UUID = Buffer.from('be7acfcb97a942e89c71999491e3afac', 'hex');

/** An MP4 with a top-level XMP `uuid` box appended that declares an IPTC digital source type. */
export function mp4WithDigitalSourceType(mp4: Buffer, code: string): Buffer {
  const packet = Buffer.from(xmpPacket(`xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/${code}"`));
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + XMP_UUID.length + packet.length, 0);
  header.write('uuid', 4, 'latin1');
  return Buffer.concat([mp4, header, XMP_UUID, packet]);
}
