document.getElementById('msg')?.replaceChildren('set by script');
