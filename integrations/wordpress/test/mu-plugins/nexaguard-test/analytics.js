// Test fixture: counts its runs in window.__ngTestAnalytics (the blocking tests read it).
window.__ngTestAnalytics = (window.__ngTestAnalytics || 0) + 1;
