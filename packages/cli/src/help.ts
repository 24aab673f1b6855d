import { families } from "@vmstream/wire-spec";

/** Every family@version the spec defines (new versions appear here without editing the help). */
const FORMATS = families.flatMap((f) => f.versions.map((v) => `${f.name}@${v.version}`)).join(" ");

export const HELP = `vmstream — read, write, verify and convert VM save/migration streams

Usage: vmstream <command> [options]

Commands:
  inspect FILE [--format F] [--json] [--view analyze]   summarise a stream
  verify FILE [--format F] [--strict]                   check every rule of its format
  decode FILE [--format F]                              lossless JSON on standard output
  encode JSON OUT                                       write the stream a decoded JSON describes
  recode IN OUT [--format F]                            decode and re-encode (byte-identical)
  convert IN OUT --to F [--width 32|64] [--guest pv|hvm]
                                                        convert between versions and families
  extract IN [--snapshot S] OUT                         the stream inside a qcow2 snapshot or libvirt save image
  wrap-save STREAM OUT (--xml F | --like SAVE) [--compress C]
                                                        a libvirt save image around a QEMU stream
  memory IN OUT [--raw | --blocks] [--machine M] [--json]
                                                        a guest's memory (QEMU or Xen) as an ELF core
  schema-diff SRC.json DST.json [--json] [--qemu-compatible]  compare two 'qemu -dump-vmstate' dumps by wire layout
  preflight STREAM --against DEST [--dump D.json] [--qemu BIN -- ARGS]  will STREAM load on that QEMU?
  diff A B [--json] [--pages] [--snapshot-a S --snapshot-b S]
                                                        what differs between two QEMU saves
  matrix [--json F] [--markdown F] [--html F] [--input F]
                                                        run or render the compat matrix

Formats (family@version; a bare family means its newest version):
  ${FORMATS}
  --format is optional: the format is detected from the stream's own header.
  A qcow2 image with internal snapshots or a libvirt save image is read as
  the stream inside it (--snapshot ID|NAME picks a snapshot).

FILE and IN may be '-' (standard input); OUT may be '-' (standard output).
Exit codes: 0 success, 1 invalid input or refused, 2 usage error.

Examples:
  vmstream inspect guest.mig
  vmstream verify saved.xl || echo "damaged"
  vmstream inspect guest.mig --json --view analyze | jq 'keys'
  vmstream convert old-legacy.img new.libxl --to libxl --guest hvm
  vmstream decode ctx.bin > ctx.json && vmstream encode ctx.json ctx2.bin

'vmstream <command> --help' shows more about one command.
`;

const HELPS: Record<string, string> = {
  inspect: `vmstream inspect FILE [--format F] [--json] [--view analyze] [--schema SIBLING]

Prints what the stream holds: format and version, machine or domain type,
sections or records with offsets and sizes, RAM or page totals, and the first
fault if the stream is damaged (exit 1).

  --json           print a JSON document instead of the readable summary
  --view analyze   (qemu) print exactly what QEMU 10.0's analyze-migration.py -d state prints
  --schema FILE    (qemu) borrow the device descriptions of another stream (for streams without vmdesc)
  --format F       skip detection (family@version)
  --snapshot S     (qcow2 image) the snapshot whose VM state to show, by id or name;
                   without it, the snapshot table and a verdict per VM state
  --xml            (libvirt save image) print the domain and cookie XML too

Examples:
  vmstream inspect guest.mig
  vmstream inspect disk.qcow2
  vmstream inspect managed.save --xml
  vmstream inspect guest.mig --json --view analyze > state.json
  vmstream inspect old-2.0.mig --schema new-sibling.mig
  cat domain.save | vmstream inspect -
`,
  verify: `vmstream verify FILE [--format F] [--strict]

Checks every rule of the format's spec. Exit 0 when valid; otherwise exit 1 and
one line on standard error:  FILE: FAMILY@VERSION: offset N: message

Damage the real loader never reads (qemu: a cut or corrupt vmdesc trailer after
the EOF byte, bytes after the end) is a warning: the state loads, so exit 0,
with one 'offset N: warning: ...' line each on standard error.

  --strict   warnings fail too (exit 1)

Examples:
  vmstream verify guest.mig
  vmstream verify domain.libxc --format libxc@3
`,
  decode: `vmstream decode FILE [--format F]

Prints the lossless JSON form of the stream on standard output: every byte is
accounted for (page data as base64, 64-bit numbers as decimal strings), so
'vmstream encode' gives the same bytes back.

Example:
  vmstream decode ctx.bin > ctx.json
`,
  encode: `vmstream encode JSON OUT

Writes the stream that a 'decode' document describes (its "format" field names
family and version). OUT is written to a temporary file and renamed when
complete; '-' writes to standard output.

Example:
  vmstream decode a.bin > a.json && vmstream encode a.json b.bin && cmp a.bin b.bin
`,
  recode: `vmstream recode IN OUT [--format F]

Decodes and re-encodes in one streaming pass; the output is byte-identical to
the input for every valid stream (a proof that nothing is lost).

Example:
  vmstream recode guest.mig copy.mig && cmp guest.mig copy.mig
`,
  memory: `vmstream memory IN OUT [--raw | --blocks] [--machine M] [--json] [--snapshot S]

Writes the guest's memory from a QEMU stream (plain, zero, compressed and
XBZRLE pages, mapped-ram files; bare, in a qcow2 snapshot or a libvirt save
image) or a Xen save (libxc, libxl, xl, legacy): an ELF core with one PT_LOAD
per guest-physical range (QEMU: pc.ram as dump-guest-memory lays it out;
Xen: each run of pfns carried, at pfn x 4096), or with --raw a sparse image
indexed by guest-physical address, or (QEMU only) with --blocks a new
directory OUT with each RAM block in its own file by block offset. Pages the
stream never carried stay holes; the summary says which.

  --machine M     pc, q35, pc-i440fx-X.Y or pc-q35-X.Y when the stream names none (QEMU)
  --snapshot S    the qcow2 snapshot (id or name) to read
  --json          the summary as JSON

Examples:
  vmstream memory guest.mig guest.core
  vmstream memory guest.mig ram.img --raw
  vmstream memory guest.mig blocks/ --blocks
  vmstream memory disk.qcow2 snap.core --snapshot 1
  vmstream memory domu.xl domu.core
`,
  convert: `vmstream convert IN OUT --to F [--width 32|64] [--guest pv|hvm]

Converts between adjacent versions of a family (context 1 <-> 2, qemu 3 <-> 4,
libxc 2 <-> 3) and from legacy Xen images to libxc/libxl. A conversion that
would lose data is refused, naming what would be lost; no output file is left.

  --to F          target format (family or family@version)
  --width 32|64   (legacy) the saving toolstack's word size, when the image cannot tell
  --guest pv|hvm  (legacy) the guest type, when the image cannot tell
  --layout plain|mapped-ram
                  (qemu) write a mapped-ram file as a plain stream, or a plain
                  stream as a mapped-ram file (also with --to the same version)

Examples:
  vmstream convert ctx-v1.bin ctx-v2.bin --to context@2
  vmstream convert saved-mapped.mig plain.mig --to qemu@3 --layout plain
  vmstream convert guest.mig guest-v4.mig --to qemu@4
  vmstream convert legacy.img out.libxl --to libxl --width 64 --guest hvm
`,
  extract: `vmstream extract IN [--snapshot ID|NAME] OUT

Writes the stream stored inside a container, byte for byte: the VM state of
a qcow2 internal snapshot (--snapshot may be left out when there is only one),
or the QEMU stream of a libvirt save image, decompressed (gzip in-process; xz,
bzip2, lzop through the programs libvirt runs). The container is opened
read-only; OUT is written atomically.

Examples:
  vmstream extract disk.qcow2 --snapshot snap-a state.mig
  vmstream extract /var/lib/libvirt/qemu/save/guest.save guest.mig
`,
  "wrap-save": `vmstream wrap-save STREAM OUT (--xml DOMAIN.xml [--cookie COOKIE.xml] | --like SAVE.img)
                  [--compress raw|gzip|bzip2|xz|lzop] [--paused|--running]

Writes a libvirt save image (what 'virsh save' writes and 'virsh restore'
reads) around a QEMU stream. --like copies the XML, cookie, data_len,
was_running and compression of an existing image: with its own stream a raw
image comes back byte-identical. --xml starts from a domain XML of your own.

Examples:
  vmstream extract guest.save guest.mig && vmstream wrap-save --like guest.save guest.mig copy.save
  vmstream wrap-save --xml dom.xml --compress xz guest.mig guest.save && virsh restore guest.save
`,
  "schema-diff": `vmstream schema-diff SRC.json DST.json [--json] [--qemu-compatible]

Checks that a destination QEMU (DST, a 'qemu -dump-vmstate' dump) can load
what a source QEMU (SRC) sends, by what is on the wire: field order, sizes,
element counts, versions, minimum_version_id, subsections. A renamed field
with the same bytes is information; a device only one build has is listed
apart ("only in source" / "only in destination"). What the dump cannot
decide (a subsection's needed(), a field_exists test) makes a finding
conditional. Exit 0 when no device both builds have is always refused,
1 otherwise, 2 usage.

  --json             {mode, compatible, devices, onlyInSource, onlyInDest,
                      findings: [{severity, kind, device, path, reason, code, effect, when?}]}
  --qemu-compatible  the findings of QEMU's scripts/vmstate-static-checker.py
                     (one per line it prints), as earlier vmstream releases gave

Examples:
  vmstream schema-diff old.json new.json
  vmstream schema-diff old.json new.json --json | jq '.findings[] | select(.severity=="error")'
  (dumps come from: qemu-system-x86_64 -M pc-i440fx-7.2 -dump-vmstate new.json)
`,
  preflight: `vmstream preflight STREAM --against DEST [--dump DEST.json] [--json]
vmstream preflight STREAM --qemu BIN [--dump DEST.json] -- ARGS...

Predicts whether QEMU loads STREAM on the destination, one line per cause
in QEMU's words (machine type, capabilities, UUID, postcopy, RAM blocks,
sections and instances, versions, device layouts). Exit 0 predicted to
load, 1 predicted refusal, 2 usage.

  --against F      a stream the destination wrote for the same command line
                   (started paused, migrated to a file), or its -dump-vmstate
  --dump F         the destination's -dump-vmstate (device layouts)
  --qemu BIN       make the probe and the dump with BIN and the ARGS after --
  --uuid U         the destination runs with validate-uuid and -uuid U
  --capability C   migration capabilities on at the destination (comma-separated)
  --postcopy       postcopy-ram is on at the destination
  --json           {stream, against, loads, causes: [{code, message, subject, fatal}], checked}

Examples:
  vmstream preflight saved.mig --against probe.mig --dump dest-vmstate.json
  vmstream preflight saved.mig --qemu qemu-system-x86_64 -- -M pc-q35-7.2 -m 64 -smp 2
`,
  diff: `vmstream diff A B [--json] [--pages] [--format F] [--snapshot S | --snapshot-a S --snapshot-b S]

What differs between two QEMU saves: the machine type, RAM blocks, sections
only in one, device state field by field as --view analyze prints it, and
RAM page by page (counts and ranges of pages that differ or that only one
carries; a digest per page is kept, never the pages; XBZRLE pages are
compared after their delta, keeping page contents in a scratch file).
A and B may be qcow2 snapshots or libvirt save images. Sections are matched by idstr and instance (section ids differ between
releases); a field renamed at the same position with the same shape is
reported as a rename. Exit 0 equal, 1 different (as diff does), 2 usage.

  --pages  list every differing range (default: the first 8 per block)
  --snapshot-a S, --snapshot-b S
           the qcow2 snapshot of A, of B (--snapshot: of both)
  --json   print {equal, machine, ram: {blocks, pages}, devices: {onlyA, onlyB, versions, fields}}

Examples:
  vmstream diff before.mig after.mig
  vmstream diff disk.qcow2 disk.qcow2 --snapshot-a 1 --snapshot-b 2
  vmstream diff a.mig b.mig --json | jq '.devices.fields[] | select(.section == "cpu")'
`,
  matrix: `vmstream matrix [--json FILE] [--markdown FILE] [--html FILE] [--input FILE]

Runs the compat matrix (in a vmstream checkout) or renders an existing
matrix.json (--input), and writes it as JSON, Markdown or HTML. Each cell is
one property of one version pair: pass, fail or expected-fail.
Exit 0 when all required cells pass, 1 otherwise.

Examples:
  vmstream matrix --json matrix.json --markdown MATRIX.md
  vmstream matrix --input matrix.json --html matrix.html
`,
};

export function commandHelp(name: string): string {
  return HELPS[name] ?? HELP;
}
