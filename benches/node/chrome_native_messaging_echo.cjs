// An echo host on chrome-native-messaging 0.2.0 (npm), exactly as its README shows:
// Input, Transform and Output streams piped between process.stdin and process.stdout.
const nativeMessage = require('chrome-native-messaging');

process.stdin
  .pipe(new nativeMessage.Input())
  .pipe(
    new nativeMessage.Transform(function (msg, push, done) {
      push(msg);
      done();
    }),
  )
  .pipe(new nativeMessage.Output())
  .pipe(process.stdout);
