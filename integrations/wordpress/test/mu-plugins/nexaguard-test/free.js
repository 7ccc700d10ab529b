// Test fixture: counts its runs in window.__ngTestFree (the blocking tests read it).
window.__ngTestFree = (window.__ngTestFree || 0) + 1;
