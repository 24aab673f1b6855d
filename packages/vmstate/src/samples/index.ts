export { sampleDevices, sampleUart, sampleTimer, sampleNic, sampleReleases, type SampleDevice } from "./devices.js";
