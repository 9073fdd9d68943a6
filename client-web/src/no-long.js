// Stands in for long.js: protobufjs then reads 64-bit integers as JavaScript numbers.
export default null;
