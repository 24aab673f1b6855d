/**
 * Reader thread for `pipeSource`: blocks in read(2) on the pipe and fills the
 * shared ring, so the kernel pipe is drained while the main thread decodes
 * (on two cores a pipe is otherwise read and parsed in turn, about half speed).
 */
import { readSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { CTL_ERROR, CTL_LENGTHS, CTL_READ, CTL_STATE, CTL_WRITE, STATE_GO, STATE_READY, type RingInit } from "./pipe-ring.js";

const { fd, data, control, slots, slotSize } = workerData as RingInit;
const ctl = new Int32Array(control);
const lengths = new Int32Array(control, CTL_LENGTHS * 4, slots);

// Booted: wait for the main thread to hand over the pipe (it reads on until then).
// (Unless the main thread has already said to quit: that word is not overwritten.)
Atomics.compareExchange(ctl, CTL_STATE, 0, STATE_READY);
Atomics.notify(ctl, CTL_STATE);
let state: number;
while ((state = Atomics.load(ctl, CTL_STATE)) === STATE_READY) Atomics.wait(ctl, CTL_STATE, STATE_READY);

for (; state === STATE_GO; ) {
  const seq = ctl[CTL_WRITE]!;
  // Wait for the main thread to free a slot (the ring bounds memory).
  for (let r = Atomics.load(ctl, CTL_READ); seq - r >= slots; r = Atomics.load(ctl, CTL_READ)) {
    Atomics.wait(ctl, CTL_READ, r);
  }
  const slot = seq % slots;
  let n: number;
  try {
    n = readSync(fd, new Uint8Array(data, slot * slotSize, slotSize), 0, slotSize, null);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EAGAIN") {
      // A non-blocking descriptor with nothing to read yet: poll gently.
      Atomics.wait(ctl, CTL_READ, Atomics.load(ctl, CTL_READ), 2);
      continue;
    }
    parentPort?.postMessage(`${code ?? (e as Error).message}`);
    Atomics.store(ctl, CTL_ERROR, 1);
    n = 0;
  }
  lengths[slot] = n;
  Atomics.add(ctl, CTL_WRITE, 1);
  Atomics.notify(ctl, CTL_WRITE);
  if (n === 0) break;
}
