// What the browser journeys share: their settings from the environment
// (the Go test that runs them sets these), Debian's chromium's flags, and
// how a step fails.
export const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is required`);
  return v;
};

// Headless Debian chromium with nothing of its own going to the network.
export const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

export const fail = (m) => {
  throw new Error(m);
};
