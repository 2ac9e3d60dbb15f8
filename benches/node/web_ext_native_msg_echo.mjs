// An echo host on web-ext-native-msg (npm), as its README's Input / Output sample shows:
// Input.decode on each stdin chunk, Output.encode of each reply to process.stdout.
import process from 'node:process';
import { Input, Output } from 'web-ext-native-msg';

const handleReject = (e) => {
  e = new Output().encode(e);
  e && process.stdout.write(e);
  return false;
};

const writeStdout = async (msg) => {
  msg = await new Output().encode(msg);
  return msg && process.stdout.write(msg);
};

const handleMsg = async (msg) => writeStdout(msg);

const input = new Input();

const readStdin = (chunk) => {
  const arr = input.decode(chunk);
  const func = [];
  Array.isArray(arr) &&
    arr.length &&
    arr.forEach((msg) => {
      msg && func.push(handleMsg(msg));
    });
  return Promise.all(func).catch(handleReject);
};

process.stdin.on('data', readStdin);
