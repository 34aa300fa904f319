// Placeholder entry point so scripts/build works; the lead replaces it with the real CLI.
console.log("lanner");
