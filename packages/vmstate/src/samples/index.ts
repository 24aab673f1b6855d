export { sampleDevices, sampleUart, sampleTimer, sampleNic, sampleReleases, type SampleDevice } from "./devices.js";
export { qemu72Devices, fwCfg, mc146818rtc, i8254, isaSerial, isaFdc } from "./qemu72.js";
