// Shows the receipt of each recorded consent on the demo page.
document.addEventListener("nexaguard:consent", (e) => {
  document.getElementById("receipt").textContent = JSON.stringify(e.detail, null, 2);
});
document.getElementById("reopen").addEventListener("click", () => window.NexaGuard && window.NexaGuard.showPreferences());
